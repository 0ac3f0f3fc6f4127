package webchat

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/web/i18n"
)

// multipartOverhead is what a multipart body adds around the file: headers
// and boundaries.
const multipartOverhead = 16 << 10

// uploadResult answers an upload.
type uploadResult struct {
	Token       string `json:"token"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	URL         string `json:"url"`
}

// upload stores a file the visitor will send with their next message:
// POST /chat/{ente}/attachments, "Authorization: Visitor <token>", the file in
// the multipart field "file". The type is recognised from the content.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	lang := i18n.Lang(r)
	tenant, ok := s.requestTenant(w, r, lang)
	if !ok {
		return
	}
	token, ok := requestVisitor(r, false)
	if !ok {
		s.writeProblem(w, r, lang, http.StatusUnauthorized, "unauthenticated", "visitor_required")
		return
	}
	visitor := visitorID(token)
	if ok, wait := s.uploads.allow(visitor, time.Now()); !ok {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.writeProblem(w, r, lang, http.StatusTooManyRequests, "too-many-requests", "attachment_rate_limited", secs)
		return
	}

	r.Body = http.MaxBytesReader(w, r.Body, s.maxAttachment+multipartOverhead)
	name, data, err := s.readFilePart(r)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge) || errors.Is(err, errFileTooLarge):
		s.writeProblem(w, r, lang, http.StatusRequestEntityTooLarge, "body-too-large", "attachment_too_large",
			formatSize(s.maxAttachment))
		return
	case errors.Is(err, errNoFile):
		s.writeProblem(w, r, lang, http.StatusBadRequest, "malformed-request", "attachment_missing")
		return
	case err != nil:
		s.log.Info("web chat: an upload could not be read", "err", err)
		s.writeProblem(w, r, lang, http.StatusBadRequest, "malformed-request", "attachment_missing")
		return
	}
	// Check the type before anything is stored, even the visitor's contact.
	if len(data) == 0 {
		s.writeProblem(w, r, lang, http.StatusUnprocessableEntity, "invalid-input", "attachment_empty")
		return
	}
	if _, err := crm.SniffAttachmentType(data); err != nil {
		s.writeProblem(w, r, lang, http.StatusUnsupportedMediaType, "unsupported-media-type", "attachment_type")
		return
	}
	contactID, err := s.store.EnsureContact(r.Context(), tenant.ID, visitorClaim(visitor, lang))
	if err != nil {
		s.log.Error("web chat: the contact of an upload", "err", err)
		s.writeProblem(w, r, lang, http.StatusInternalServerError, "internal", "internal")
		return
	}
	a, err := s.store.SaveAttachment(r.Context(), tenant.ID, crm.AttachmentUpload{Name: name, Data: data, ContactID: contactID})
	switch {
	case errors.Is(err, crm.ErrAttachmentType):
		s.writeProblem(w, r, lang, http.StatusUnsupportedMediaType, "unsupported-media-type", "attachment_type")
		return
	case errors.Is(err, crm.ErrAttachmentTooLarge):
		s.writeProblem(w, r, lang, http.StatusRequestEntityTooLarge, "body-too-large", "attachment_too_large",
			formatSize(s.maxAttachment))
		return
	case errors.Is(err, crm.ErrAttachmentEmpty):
		s.writeProblem(w, r, lang, http.StatusUnprocessableEntity, "invalid-input", "attachment_empty")
		return
	case err != nil:
		s.log.Error("web chat: storing an upload", "err", err)
		s.writeProblem(w, r, lang, http.StatusInternalServerError, "internal", "internal")
		return
	}
	s.log.Debug("web chat: attachment stored", "ente", tenant.Slug, "content_type", a.ContentType, "size", a.Size)
	writeJSON(w, http.StatusCreated, uploadResult{Token: a.Token, Name: a.Name, ContentType: a.ContentType,
		Size: a.Size, URL: attachmentPath(tenant.Slug, a.Token)})
}

var (
	errNoFile       = errors.New(`no multipart field "file"`)
	errFileTooLarge = errors.New("file too large")
)

// readFilePart reads the multipart field "file", streaming: nothing goes to a
// temporary file, and no more than the limit is read.
func (s *Server) readFilePart(r *http.Request) (string, []byte, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return "", nil, err
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return "", nil, errNoFile
		}
		if err != nil {
			return "", nil, err
		}
		if part.FormName() != "file" {
			if _, err := io.Copy(io.Discard, part); err != nil {
				return "", nil, err
			}
			continue
		}
		data, err := io.ReadAll(io.LimitReader(part, s.maxAttachment+1))
		if err != nil {
			return "", nil, err
		}
		if int64(len(data)) > s.maxAttachment {
			return "", nil, errFileTooLarge
		}
		return part.FileName(), data, nil
	}
}

// download serves a file to the visitor whose conversation it belongs to:
// GET /chat/{ente}/attachments/{token}, with "Authorization: Visitor <token>"
// or ?visitor=<token> (for an <img>). Anyone else's file is not found.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	lang := i18n.Lang(r)
	tenant, ok := s.requestTenant(w, r, lang)
	if !ok {
		return
	}
	token, ok := requestVisitor(r, true)
	if !ok {
		s.writeProblem(w, r, lang, http.StatusUnauthorized, "unauthenticated", "visitor_required")
		return
	}
	owner, err := s.store.OwnerOf(r.Context(), tenant.ID, crm.IdentityWebchat, visitorID(token))
	var f crm.AttachmentFile
	if err == nil {
		f, err = s.store.ContactAttachment(r.Context(), tenant.ID, owner.ContactID, r.PathValue("token"))
	}
	if errors.Is(err, crm.ErrNotFound) {
		s.writeProblem(w, r, lang, http.StatusNotFound, "not-found", "attachment_not_found")
		return
	}
	if err != nil {
		s.log.Error("web chat: reading an attachment", "err", err)
		s.writeProblem(w, r, lang, http.StatusInternalServerError, "internal", "internal")
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	// The file is shown as what it is and nothing else: no script of ours
	// runs next to it.
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; sandbox")
	h.Set("Cache-Control", "private, max-age=86400")
	disposition := "attachment"
	if strings.HasPrefix(f.ContentType, "image/") {
		disposition = "inline"
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": f.Name}))
	http.ServeContent(w, r, "", f.CreatedAt, bytes.NewReader(f.Data))
}

// requestTenant finds the ente of the address, or answers not found.
func (s *Server) requestTenant(w http.ResponseWriter, r *http.Request, lang string) (crm.Tenant, bool) {
	t, err := s.store.TenantBySlug(r.Context(), r.PathValue("ente"))
	if errors.Is(err, crm.ErrNotFound) {
		s.writeProblem(w, r, lang, http.StatusNotFound, "not-found", "ente_not_found")
		return crm.Tenant{}, false
	}
	if err != nil {
		s.log.Error("web chat: finding the ente", "err", err)
		s.writeProblem(w, r, lang, http.StatusInternalServerError, "internal", "internal")
		return crm.Tenant{}, false
	}
	return t, true
}

// problem is an RFC 9457 problem, shaped as the rest of Dialogo's (package
// web), whose detail is a sentence for the citizen in their language.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance"`
}

// writeProblem answers with a problem; slug names its type, key its detail.
func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, lang string, status int, slug, key string, args ...any) {
	p := problem{
		Type:     "urn:dialogo:problem:" + slug,
		Title:    http.StatusText(status),
		Status:   status,
		Detail:   texts.T(lang, key, args...),
		Instance: r.URL.Path,
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Language", lang)
	writeBody(w, status, p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	writeBody(w, status, v)
}

func writeBody(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // structs of strings and numbers always encode
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
