package crm

import "errors"

// Error kinds shared by the whole package. The HTTP layer maps each of them to
// one status code, so functions wrap these (with %w) instead of inventing new
// kinds.
var (
	ErrNotFound  = errors.New("not found")
	ErrInvalid   = errors.New("invalid input")
	ErrConflict  = errors.New("conflict")
	ErrForbidden = errors.New("forbidden")
)

// FieldError reports why the value of one input field was rejected. It is a
// kind of ErrInvalid, so errors.Is(err, ErrInvalid) holds for it, and its
// Field and Reason are meant to be shown next to the offending form field.
type FieldError struct {
	Field  string // the input's name, e.g. "codice_fiscale"
	Reason string // a short English explanation, e.g. "wrong check character"
}

// Invalid returns a *FieldError for field with the given reason.
func Invalid(field, reason string) error {
	return &FieldError{Field: field, Reason: reason}
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// Is reports whether target is ErrInvalid, the kind every FieldError belongs to.
func (e *FieldError) Is(target error) bool {
	return target == ErrInvalid
}

// withField returns err with its field renamed when it is a *FieldError, so that a
// nested value is reported by its full path (records[2].codice_fiscale).
func withField(err error, field string) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return &FieldError{Field: field, Reason: fe.Reason}
	}
	return err
}
