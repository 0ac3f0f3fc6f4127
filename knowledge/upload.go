package knowledge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/charmap"
)

// MaxTextSize is the largest Markdown, text or HTML document that IngestUpload
// and IngestURLs accept, in bytes; a PDF may be up to MaxPDFSize.
const MaxTextSize = 10 << 20

// maxNameLength is the longest file name IngestUpload accepts, in characters.
const maxNameLength = 255

var (
	// ErrTooLarge is returned for a document above its size limit, or a PDF
	// with more than MaxPDFPages pages.
	ErrTooLarge = errors.New("knowledge: the document is too large")
	// ErrUnsupportedType is returned for a document that is not Markdown,
	// text, HTML or PDF, or whose content is not what its name or
	// Content-Type says.
	ErrUnsupportedType = errors.New("knowledge: not a Markdown, text, HTML or PDF document")
	// ErrInvalidName is returned for an uploaded file whose name is empty or
	// too long once sanitised.
	ErrInvalidName = errors.New("knowledge: invalid file name")
)

// IngestUpload ingests a file uploaded by a knowledge editor, read from r, as
// Ingest does. The format comes from the file name's extension (.md,
// .markdown, .txt, .html, .htm, .pdf) and must agree with the content: a .pdf
// must be a PDF, the others text. A file above MaxTextSize (MaxPDFSize for a
// PDF) is refused with ErrTooLarge, any other type with ErrUnsupportedType.
// Text that is not UTF-8 is read as Windows-1252 (or as the charset an HTML
// page declares).
//
// The source is named by the file name without any directory a browser may
// send and without control characters, so that uploading a file again with
// the same name replaces it, and an unchanged one is left alone. Uploaded
// sources share their names with the files of IngestDir: a folder ingestion
// removes an uploaded source whose name is not among its files.
func IngestUpload(ctx context.Context, pool *pgxpool.Pool, emb Embedder, tenantID int64, filename string, r io.Reader) (_ Outcome, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("knowledge.IngestUpload(%d, %q): %w", tenantID, filename, err)
		}
	}()
	name, err := SanitizeFileName(filename)
	if err != nil {
		return 0, err
	}
	format, ok := FormatOf(name)
	if !ok {
		return 0, fmt.Errorf("%w: the file name must end in .md, .txt, .html or .pdf", ErrUnsupportedType)
	}
	data, err := readLimited(r, maxSize(format))
	if err != nil {
		return 0, err
	}
	body, err := documentBody(format, data, "")
	if err != nil {
		return 0, err
	}
	return Ingest(ctx, pool, emb, tenantID, Source{Name: name, Format: format, Body: body})
}

// SanitizeFileName returns the name an uploaded file is stored under: its
// last path element (browsers may send "C:\fakepath\name"), without control
// and formatting characters (which could hide the real extension), with
// spaces trimmed. It returns ErrInvalidName for a name that is then empty,
// "." or "..", or longer than 255 characters.
func SanitizeFileName(filename string) (string, error) {
	if i := strings.LastIndexAny(filename, `/\`); i >= 0 {
		filename = filename[i+1:]
	}
	name := strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.In(r, unicode.Cc, unicode.Cf) {
			return -1
		}
		return r
	}, filename))
	switch {
	case name == "" || name == "." || name == "..":
		return "", fmt.Errorf("%w: %q has no file name", ErrInvalidName, filename)
	case utf8.RuneCountInString(name) > maxNameLength:
		return "", fmt.Errorf("%w: longer than %d characters", ErrInvalidName, maxNameLength)
	}
	return name, nil
}

// maxSize is the size limit of a document of the format.
func maxSize(f Format) int64 {
	if f == PDF {
		return MaxPDFSize
	}
	return MaxTextSize
}

// readLimited reads all of r, or fails with ErrTooLarge past limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return data, nil
}

// documentBody checks that data is a document of the format and returns it as
// a Source's Body: a PDF's bytes as they are, text decoded to UTF-8.
// contentType, when not empty, is the Content-Type the document was served
// with, whose charset is used for text.
func documentBody(format Format, data []byte, contentType string) (string, error) {
	isPDF := bytes.HasPrefix(data, []byte("%PDF-"))
	if format == PDF {
		if !isPDF {
			return "", fmt.Errorf("%w: the content is not a PDF", ErrUnsupportedType)
		}
		return string(data), nil
	}
	if isPDF || !strings.HasPrefix(http.DetectContentType(data), "text/") {
		return "", fmt.Errorf("%w: the content is not text", ErrUnsupportedType)
	}
	return decodeText(format, data, contentType)
}

// decodeText decodes a text document to UTF-8: by the charset of its
// Content-Type or, for HTML, of its <meta> tag; otherwise UTF-8 when it is
// valid UTF-8, else Windows-1252, the usual encoding of older Italian
// documents.
func decodeText(format Format, data []byte, contentType string) (string, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	_, name, certain := charset.DetermineEncoding(data, contentType)
	if !certain && format != HTML || name == "utf-8" && utf8.Valid(data) {
		if utf8.Valid(data) {
			return string(data), nil
		}
		decoded, err := charmap.Windows1252.NewDecoder().Bytes(data)
		return string(decoded), err
	}
	enc, _ := charset.Lookup(name)
	if enc == nil {
		return "", fmt.Errorf("%w: unknown charset %q", ErrUnsupportedType, name)
	}
	decoded, err := enc.NewDecoder().Bytes(data)
	if err != nil {
		return "", fmt.Errorf("decoding %s text: %w", name, err)
	}
	return string(decoded), nil
}
