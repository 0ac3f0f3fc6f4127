package crm

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// MaxAttachmentSize bounds any stored file; channels set lower limits of
// their own (the web chat's is configuration).
const MaxAttachmentSize = 25 << 20

// The reasons a file is refused. They are *FieldError values (kinds of
// ErrInvalid) that errors.Is recognises, so that a channel can tell the
// citizen in their language; the reasons are written for a citizen too.
var (
	ErrAttachmentType = &FieldError{Field: "file",
		Reason: "only pictures (PNG, JPEG, GIF or WebP) and PDF documents can be sent"}
	ErrAttachmentEmpty    = &FieldError{Field: "file", Reason: "the file is empty"}
	ErrAttachmentTooLarge = &FieldError{Field: "file",
		Reason: fmt.Sprintf("the file is too large: at most %d MB", MaxAttachmentSize>>20)}
)

// allowedAttachmentTypes are the types a file may have, as recognised from its
// content.
var allowedAttachmentTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "application/pdf": true,
}

// AttachmentUpload is a file to store. Exactly one of ContactID (a citizen's
// upload) and StaffID (an operator's) says whose it is.
type AttachmentUpload struct {
	Name      string // as the sender named it; cleaned, never trusted for the type
	Data      []byte
	ContactID int64
	StaffID   int64
}

// AttachmentFile is a stored file with its bytes.
type AttachmentFile struct {
	Attachment
	Data      []byte
	ContactID int64 // 0 when staff uploaded it
	StaffID   int64 // 0 when a citizen uploaded it
	CreatedAt time.Time
}

// SniffAttachmentType returns the type of a file from its content, or
// ErrAttachmentType when it is not a type that may be sent.
func SniffAttachmentType(data []byte) (string, error) {
	if bytes.HasPrefix(data, []byte("%PDF-")) {
		return "application/pdf", nil
	}
	ct, _, _ := strings.Cut(http.DetectContentType(data), ";")
	if !allowedAttachmentTypes[ct] {
		return "", ErrAttachmentType
	}
	return ct, nil
}

// SaveAttachment stores a file sent in a conversation, after checking its type
// from its content (PNG, JPEG, GIF, WebP or PDF, whatever its name says), and
// returns its description with the token by which messages and addresses
// refer to it.
func (s *Store) SaveAttachment(ctx context.Context, tenantID int64, up AttachmentUpload) (Attachment, error) {
	if (up.ContactID == 0) == (up.StaffID == 0) {
		return Attachment{}, Invalid("contact_id", "a file belongs to a contact or to a staff member")
	}
	if len(up.Data) == 0 {
		return Attachment{}, ErrAttachmentEmpty
	}
	if len(up.Data) > MaxAttachmentSize {
		return Attachment{}, ErrAttachmentTooLarge
	}
	ct, err := SniffAttachmentType(up.Data)
	if err != nil {
		return Attachment{}, err
	}
	sum := sha256.Sum256(up.Data)
	a := Attachment{
		Name:        cleanFileName(up.Name, ct),
		ContentType: ct,
		Size:        int64(len(up.Data)),
		SHA256:      hex.EncodeToString(sum[:]),
		Token:       newAttachmentToken(),
	}
	_, err = s.db.Exec(ctx, `
		INSERT INTO attachments (tenant_id, token, name, content_type, size, sha256, data, contact_id, staff_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		tenantID, a.Token, a.Name, a.ContentType, a.Size, a.SHA256, up.Data, nullIfZero(up.ContactID), nullIfZero(up.StaffID))
	if isForeignKeyViolation(err) {
		return Attachment{}, Invalid("contact_id", "no such contact or staff member")
	}
	if err != nil {
		return Attachment{}, fmt.Errorf("saveAttachment: %w", err)
	}
	return a, nil
}

const attachmentColumns = `a.token, a.name, a.content_type, a.size, a.sha256, a.data,
	coalesce(a.contact_id, 0), coalesce(a.staff_id, 0), a.created_at`

func scanAttachmentFile(row pgx.Row) (AttachmentFile, error) {
	var f AttachmentFile
	err := row.Scan(&f.Token, &f.Name, &f.ContentType, &f.Size, &f.SHA256, &f.Data, &f.ContactID, &f.StaffID, &f.CreatedAt)
	return f, err
}

// Attachment returns a stored file of the tenant, for staff, or ErrNotFound.
func (s *Store) Attachment(ctx context.Context, tenantID int64, token string) (AttachmentFile, error) {
	f, err := scanAttachmentFile(s.db.QueryRow(ctx, `SELECT `+attachmentColumns+` FROM attachments a
		WHERE a.tenant_id = $1 AND a.token = $2`, tenantID, token))
	if err != nil {
		return AttachmentFile{}, notFound(err, "attachment", "")
	}
	return f, nil
}

// ContactAttachment returns a stored file that the contact may see: one they
// uploaded (before or after a merge), or one carried by a message of their
// conversations that is not a private note. Anything else is ErrNotFound.
func (s *Store) ContactAttachment(ctx context.Context, tenantID, contactID int64, token string) (AttachmentFile, error) {
	f, err := scanAttachmentFile(s.db.QueryRow(ctx, `SELECT `+attachmentColumns+` FROM attachments a
		WHERE a.tenant_id = $1 AND a.token = $3 AND (
		    a.contact_id = $2
		    OR a.contact_id IN (SELECT id FROM contacts WHERE tenant_id = $1 AND merged_into = $2)
		    OR EXISTS (
		        SELECT 1 FROM conversations c JOIN messages m ON m.tenant_id = c.tenant_id AND m.conversation_id = c.id
		        CROSS JOIN LATERAL jsonb_array_elements(m.attachments) e
		        WHERE c.tenant_id = $1 AND c.contact_id = $2 AND NOT m.private AND jsonb_array_length(m.attachments) > 0
		          AND (e->>'token' = $3 OR right(e->>'url', length($3) + 1) = '/' || $3)))`,
		tenantID, contactID, token))
	if err != nil {
		return AttachmentFile{}, notFound(err, "attachment", "")
	}
	return f, nil
}

// ContactAttachments returns the descriptions of files the contact uploaded
// (before or after a merge), in the order of the tokens, to put in a message
// of theirs. A token that is unknown, or another's, is invalid.
func (s *Store) ContactAttachments(ctx context.Context, tenantID, contactID int64, tokens []string) ([]Attachment, error) {
	if len(tokens) == 0 {
		return []Attachment{}, nil
	}
	if len(tokens) > MaxAttachments {
		return nil, Invalid("attachments", fmt.Sprintf("up to %d attachments", MaxAttachments))
	}
	rows, err := s.db.Query(ctx, `SELECT a.token, a.name, a.content_type, a.size, a.sha256 FROM attachments a
		WHERE a.tenant_id = $1 AND a.token = ANY($3) AND (a.contact_id = $2
		    OR a.contact_id IN (SELECT id FROM contacts WHERE tenant_id = $1 AND merged_into = $2))`,
		tenantID, contactID, tokens)
	if err != nil {
		return nil, fmt.Errorf("contactAttachments: %w", err)
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Attachment, error) {
		var a Attachment
		err := r.Scan(&a.Token, &a.Name, &a.ContentType, &a.Size, &a.SHA256)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("contactAttachments: %w", err)
	}
	byToken := make(map[string]Attachment, len(found))
	for _, a := range found {
		byToken[a.Token] = a
	}
	out := make([]Attachment, 0, len(tokens))
	for i, t := range tokens {
		a, ok := byToken[t]
		if !ok {
			return nil, Invalid(fmt.Sprintf("attachments[%d]", i), "no such file: upload it again")
		}
		out = append(out, a)
	}
	return out, nil
}

// cleanFileName keeps the last element of a path, without control characters,
// and up to 255 characters; a name left empty becomes "allegato" with the
// extension of the type.
func cleanFileName(name, contentType string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError || unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == "/" || name == ".." {
		name = ""
	}
	if utf8.RuneCountInString(name) > 255 {
		name = string([]rune(name)[:255])
	}
	if name == "" {
		ext := map[string]string{"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif",
			"image/webp": ".webp", "application/pdf": ".pdf"}[contentType]
		name = "allegato" + ext
	}
	return name
}

// newAttachmentToken returns 32 random bytes, base64url: unguessable, and safe
// in a URL path.
func newAttachmentToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}

func nullIfZero(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
