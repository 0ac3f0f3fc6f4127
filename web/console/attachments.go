package console

import (
	"bytes"
	"mime"
	"net/http"
	"strings"
)

// attachment serves a file sent in a conversation of the staff member's ente:
// pictures inline (the conversation shows them as thumbnails), anything else
// as a download. Another ente's file is not found.
func (c *Console) attachment(w http.ResponseWriter, r *http.Request, rq *request) error {
	f, err := c.store.Attachment(r.Context(), rq.staff.TenantID, r.PathValue("token"))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	// A private cache of the operator's browser may keep it: the token never
	// names another file.
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("X-Content-Type-Options", "nosniff")
	// A PDF opened in the browser runs no script of ours, and none of its own.
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox")
	disposition := "attachment"
	if strings.HasPrefix(f.ContentType, "image/") || f.ContentType == "application/pdf" {
		disposition = "inline"
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": f.Name}))
	http.ServeContent(w, r, "", f.CreatedAt, bytes.NewReader(f.Data))
	return nil
}
