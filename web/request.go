package web

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/dialogo-pa/dialogo/crm"
)

// Body size limits.
const (
	defaultBodyLimit = 1 << 20  // 1 MiB: every JSON body but the import
	importBodyLimit  = 10 << 20 // 10 MiB: a fascicolo import of up to crm.MaxImportRecords records
)

// decodeJSON reads the request body, of at most limit bytes, into v: one JSON
// object, with no unknown fields and nothing after it. Its errors name the
// offending field by its path in the body (records[2].avvisi[0].amount_cents).
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return fmt.Errorf("%w: send the body as application/json", errUnsupportedMediaType)
	}
	// The whole body is read first, within the limit, so that an error can be
	// traced back to its place in it.
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return tooLarge
		}
		return &badRequestError{reason: "the request body could not be read"}
	}
	if trimmed := bytes.TrimSpace(data); len(trimmed) == 0 {
		return &badRequestError{reason: "the request body is empty; send a JSON object"}
	} else if trimmed[0] != '{' {
		return &badRequestError{reason: "the request body must be a JSON object"}
	}

	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syntax *json.SyntaxError
		switch {
		case errors.As(err, &syntax):
			return &badRequestError{reason: fmt.Sprintf("malformed JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(err.Error(), "json: "))}
		case errors.Is(err, io.ErrUnexpectedEOF):
			return &badRequestError{reason: "malformed JSON: the body ends in the middle of a value"}
		}
		if field, reason, ok := findJSONProblem(data, reflect.TypeOf(v)); ok {
			return &badRequestError{field: field, reason: reason}
		}
		// findJSONProblem knows every problem Decode reports; this is a fallback.
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return &badRequestError{field: typeErr.Field, reason: "must be " + describeJSONType(typeErr.Type)}
		}
		return &badRequestError{reason: strings.TrimPrefix(err.Error(), "json: ")}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &badRequestError{reason: "unexpected data after the JSON object"}
	}
	return nil
}

// jsonProblem is the first thing wrong with a body, found by findJSONProblem.
type jsonProblem struct {
	field, reason string
}

func (p *jsonProblem) Error() string { return p.field + ": " + p.reason }

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// findJSONProblem walks a syntactically valid body along the Go type it is
// decoded into and returns the path of the first value that encoding/json
// rejects: an unknown field, a value of the wrong JSON type, or a value that
// the type's own UnmarshalJSON refuses (a date). encoding/json names fields
// without array indices (records.codice_fiscale), and unknown fields by their
// key alone, which is not enough to find them in a 1000-record import.
func findJSONProblem(data []byte, t reflect.Type) (field, reason string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	err := walkJSON(dec, t, "")
	var p *jsonProblem
	if errors.As(err, &p) {
		return p.field, p.reason, true
	}
	return "", "", false
}

func walkJSON(dec *json.Decoder, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	custom := reflect.PointerTo(t).Implements(jsonUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType)
	composite := t.Kind() == reflect.Struct || t.Kind() == reflect.Map ||
		(t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && t.Elem().Kind() != reflect.Uint8
	if custom || !composite {
		// A leaf (a []byte is a base64 string): encoding/json judges it alone.
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) || !custom {
				return &jsonProblem{path, "must be " + describeJSONType(t)}
			}
			return &jsonProblem{path, strings.TrimPrefix(err.Error(), "json: ")}
		}
		return nil
	}

	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil // null leaves the value as it is
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		if tok != json.Delim('{') {
			return &jsonProblem{path, "must be " + describeJSONType(t)}
		}
		for dec.More() {
			keyTok, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := keyTok.(string)
			elem := t.Elem
			if t.Kind() == reflect.Struct {
				f, found := jsonField(t, key)
				if !found {
					return &jsonProblem{joinField(path, key), "unknown field"}
				}
				elem = func() reflect.Type { return f.Type }
			}
			if err := walkJSON(dec, elem(), joinField(path, key)); err != nil {
				return err
			}
		}
	default: // slice or array
		if tok != json.Delim('[') {
			return &jsonProblem{path, "must be " + describeJSONType(t)}
		}
		for i := 0; dec.More(); i++ {
			if err := walkJSON(dec, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

// jsonField finds the struct field that encoding/json decodes key into: the
// exact name first, then a case-insensitive match, as encoding/json does.
func jsonField(t reflect.Type, key string) (reflect.StructField, bool) {
	fields := jsonFields(t)
	for _, f := range fields {
		if f.name == key {
			return f.field, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, key) {
			return f.field, true
		}
	}
	return reflect.StructField{}, false
}

type namedField struct {
	name  string
	field reflect.StructField
}

func jsonFields(t reflect.Type) []namedField {
	var out []namedField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, jsonFields(ft)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, namedField{name, f})
	}
	return out
}

func joinField(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// describeJSONType says what JSON a Go type is decoded from.
func describeJSONType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	default:
		return "a JSON value of another type"
	}
}

// pathID reads an id from the path. An id that is not a positive integer names
// nothing, so it is not found.
func pathID(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: %s %q is not an id (a positive integer)", crm.ErrNotFound, name, v)
	}
	return id, nil
}

// queryID reads an optional id from the query string; 0 when absent.
func queryID(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, crm.Invalid(name, "must be a positive integer")
	}
	return id, nil
}

// queryBool reads an optional true/false from the query string.
func queryBool(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, crm.Invalid(name, "must be true or false")
	}
	return b, nil
}

// queryLimit reads the page size: def when absent, at most max.
func queryLimit(r *http.Request, def, max int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, crm.Invalid("limit", fmt.Sprintf("must be an integer from 1 to %d", max))
	}
	return n, nil
}
