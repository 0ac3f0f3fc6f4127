package webchat_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/channels/webchat"
	"github.com/dialogo-pa/dialogo/crm"
)

// uploaded is an upload's answer: the attachment, or a problem.
type uploaded struct {
	status int
	header http.Header
	// the attachment
	Token       string `json:"token"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	URL         string `json:"url"`
	// the problem
	Type   string `json:"type"`
	Detail string `json:"detail"`
}

// upload posts a file as the widget does, claiming declaredType for it.
func (e *env) upload(visitor, name, declaredType string, data []byte, lang string) uploaded {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
	h.Set("Content-Type", declaredType)
	part, err := mw.CreatePart(h)
	require.NoError(e.t, err)
	_, err = part.Write(data)
	require.NoError(e.t, err)
	require.NoError(e.t, mw.Close())
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, e.url+"/chat/"+e.tenant.Slug+"/attachments", &body)
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if visitor != "" {
		req.Header.Set("Authorization", "Visitor "+visitor)
	}
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	u := uploaded{status: resp.StatusCode, header: resp.Header}
	require.NoError(e.t, json.NewDecoder(resp.Body).Decode(&u))
	return u
}

// download fetches an attachment's address as the visitor.
func (e *env) download(path, visitor string, inQuery bool) (*http.Response, []byte) {
	e.t.Helper()
	u := e.url + path
	if inQuery {
		u += "?visitor=" + visitor
	}
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, u, nil)
	require.NoError(e.t, err)
	if !inQuery && visitor != "" {
		req.Header.Set("Authorization", "Visitor "+visitor)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return resp, b
}

func pngImage(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// windowsProgram starts like a Windows executable.
var windowsProgram = append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), bytes.Repeat([]byte{0}, 200)...)

func TestAPictureIsUploadedSentAndShownOnlyToItsVisitor(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, w := e.newVisitor()
	picture := pngImage(t)

	up := e.upload(w.Visitor, `C:\Documenti\bolletta.png`, "image/png", picture, "")
	require.Equal(t, http.StatusCreated, up.status)
	require.Equal(t, "bolletta.png", up.Name)
	require.Equal(t, "image/png", up.ContentType)
	require.Equal(t, int64(len(picture)), up.Size)
	require.NotEmpty(t, up.Token)

	c.say("c-with-a-picture", "Ecco la foto della bolletta", up.Token)
	ack := c.ack("c-with-a-picture")
	echo := c.message(1)
	require.Len(t, echo.Attachments, 1)
	got := echo.Attachments[0]
	require.Equal(t, "bolletta.png", got.Name)
	require.Equal(t, "image/png", got.ContentType)
	require.Equal(t, "/chat/"+e.tenant.Slug+"/attachments/"+up.Token, got.URL)

	stored := e.messages(ack.conversation())[0].Attachments
	require.Len(t, stored, 1)
	require.Equal(t, up.Token, stored[0].Token)
	require.Len(t, stored[0].SHA256, 64)

	for _, inQuery := range []bool{false, true} {
		resp, body := e.download(got.URL, w.Visitor, inQuery)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, picture, body)
		require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		require.Contains(t, resp.Header.Get("Content-Disposition"), "bolletta.png")
	}
	_, stranger := e.newVisitor()
	resp, _ := e.download(got.URL, stranger.Visitor, false)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = e.download(got.URL, "", false)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	file, err := e.store.Attachment(e.ctx, e.tenant.ID, up.Token) // as the console reads it
	require.NoError(t, err)
	require.Equal(t, picture, file.Data)
}

func TestAPDFIsAccepted(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, w := e.newVisitor()

	up := e.upload(w.Visitor, "modulo.pdf", "application/octet-stream", []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"), "")

	require.Equal(t, http.StatusCreated, up.status)
	require.Equal(t, "application/pdf", up.ContentType)
}

func TestAProgramNamedLikeAPictureIsRefusedWithASentenceForTheCitizen(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, w := e.newVisitor()

	it := e.upload(w.Visitor, "foto.png", "image/png", windowsProgram, "it")
	en := e.upload(w.Visitor, "foto.png", "image/png", windowsProgram, "en-GB,en;q=0.8")

	require.Equal(t, http.StatusUnsupportedMediaType, it.status)
	require.Equal(t, "application/problem+json", it.header.Get("Content-Type"))
	require.Equal(t, "Puoi inviare solo immagini (PNG, JPEG, GIF o WebP) e documenti PDF.", it.Detail)
	require.Equal(t, "You can only send pictures (PNG, JPEG, GIF or WebP) and PDF documents.", en.Detail)
	_, err := e.store.OwnerOf(e.ctx, e.tenant.ID, crm.IdentityWebchat, visitorIdentity(w.Visitor))
	require.ErrorIs(t, err, crm.ErrNotFound, "a refused file makes no contact")
}

func TestAFileOverTheLimitIsRefused(t *testing.T) {
	t.Parallel()
	e := setup(t, func(_ *env, cfg *webchat.Config) { cfg.MaxAttachmentBytes = 2 << 10 })
	_, w := e.newVisitor()
	require.Equal(t, int64(2<<10), w.Limits.MaxAttachmentBytes)
	big := append(pngImage(t), bytes.Repeat([]byte{0}, 3<<10)...)

	up := e.upload(w.Visitor, "grande.png", "image/png", big, "it")

	require.Equal(t, http.StatusRequestEntityTooLarge, up.status)
	require.Equal(t, "urn:dialogo:problem:body-too-large", up.Type)
	require.Equal(t, "Il file è troppo grande: puoi inviare file fino a 2 KB.", up.Detail)
}

func TestAnUploadNeedsAVisitor(t *testing.T) {
	t.Parallel()
	e := setup(t)

	up := e.upload("", "foto.png", "image/png", pngImage(t), "")

	require.Equal(t, http.StatusUnauthorized, up.status)
}

func TestAMessageCannotCarryAnotherVisitorsFile(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, owner := e.newVisitor()
	up := e.upload(owner.Visitor, "foto.png", "image/png", pngImage(t), "")
	thief, _ := e.newVisitor()

	thief.say("c-stolen-file", "Guardate", up.Token)
	f := thief.errorFrame()
	thief.say("c-made-up-file", "Guardate", "no-such-token")
	g := thief.errorFrame()

	require.Equal(t, "invalid_message", f.Code)
	require.Equal(t, "c-stolen-file", f.ClientID)
	require.Equal(t, "invalid_message", g.Code)
}

func TestAnOperatorsFileIsShownToTheCitizen(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c, token, conv := e.startConversation("Mi manda il modulo?")
	pdf := []byte("%PDF-1.4\n%%EOF\n")
	a, err := e.store.SaveAttachment(e.ctx, e.tenant.ID, crm.AttachmentUpload{Name: "modulo.pdf", Data: pdf, StaffID: e.operator.ID})
	require.NoError(t, err)

	_, err = e.store.PostReply(e.ctx, e.operator.Actor(), conv, crm.Reply{Text: "Ecco il modulo", Attachments: []crm.Attachment{a}})
	require.NoError(t, err)

	m := c.message(2)
	require.Len(t, m.Attachments, 1)
	resp, body := e.download(m.Attachments[0].URL, token, false)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, pdf, body)
	require.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")
}

func visitorIdentity(token string) string { return webchat.VisitorIdentity(token) }
