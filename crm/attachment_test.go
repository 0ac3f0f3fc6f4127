package crm_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/crm"
)

// Files as they begin, padded: the type is in the first bytes.
func file(start string) []byte {
	return append([]byte(start), bytes.Repeat([]byte{0x42}, 64)...)
}

var (
	pngFile  = file("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	jpegFile = file("\xff\xd8\xff\xe0\x00\x10JFIF\x00")
	gifFile  = file("GIF89a\x01\x00\x01\x00")
	webpFile = file("RIFF\x24\x00\x00\x00WEBPVP8 ")
	pdfFile  = file("%PDF-1.7\n")
)

func TestSaveAttachmentRecognisesTheTypeFromTheContent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	contact := b.visitor(t, "", "")
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"foto.png", pngFile, "image/png"},
		{"foto.jpg", jpegFile, "image/jpeg"},
		{"animazione.gif", gifFile, "image/gif"},
		{"foto.webp", webpFile, "image/webp"},
		{"modulo.pdf", pdfFile, "application/pdf"},
		{"modulo.pdf", pngFile, "image/png"}, // the name does not matter
	} {
		a, err := b.store.SaveAttachment(b.ctx, b.tenant.ID, crm.AttachmentUpload{Name: tc.name, Data: tc.data, ContactID: contact})
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, a.ContentType, tc.name)
		require.Equal(t, int64(len(tc.data)), a.Size)
		sum := sha256.Sum256(tc.data)
		require.Equal(t, hex.EncodeToString(sum[:]), a.SHA256)
		require.Len(t, a.Token, 43)
	}
}

func TestSaveAttachmentRefusesEverythingElse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	contact := b.visitor(t, "", "")
	for name, data := range map[string][]byte{
		"programma.png": file("MZ\x90\x00\x03\x00"),
		"pagina.png":    file("<!DOCTYPE html><html><script>alert(1)</script>"),
		"disegno.svg":   file(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">`),
		"archivio.pdf":  file("PK\x03\x04\x14\x00"),
		"testo.txt":     []byte("solo testo"),
		"script.pdf":    file(" %PDF-1.7"), // not at the start
	} {
		_, err := b.store.SaveAttachment(b.ctx, b.tenant.ID, crm.AttachmentUpload{Name: name, Data: data, ContactID: contact})
		require.ErrorIs(t, err, crm.ErrAttachmentType, name)
		requireInvalidField(t, err, "file")
	}
}

func TestSaveAttachmentRefusesEmptyOversizeAndOwnerlessFiles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	contact := b.visitor(t, "", "")
	save := func(up crm.AttachmentUpload) error {
		_, err := b.store.SaveAttachment(b.ctx, b.tenant.ID, up)
		return err
	}

	require.ErrorIs(t, save(crm.AttachmentUpload{Name: "vuoto.png", ContactID: contact}), crm.ErrAttachmentEmpty)
	big := append(bytes.Clone(pngFile), make([]byte, crm.MaxAttachmentSize)...)
	require.ErrorIs(t, save(crm.AttachmentUpload{Name: "enorme.png", Data: big, ContactID: contact}), crm.ErrAttachmentTooLarge)
	requireInvalidField(t, save(crm.AttachmentUpload{Name: "foto.png", Data: pngFile}), "contact_id")
	requireInvalidField(t, save(crm.AttachmentUpload{Name: "foto.png", Data: pngFile, ContactID: contact, StaffID: b.operator.ID}), "contact_id")
	requireInvalidField(t, save(crm.AttachmentUpload{Name: "foto.png", Data: pngFile, ContactID: -1}), "contact_id")
}

func TestSaveAttachmentCleansTheName(t *testing.T) {
	t.Parallel()
	b := setup(t)
	contact := b.visitor(t, "", "")
	for given, want := range map[string]string{
		`C:\Users\mario\Desktop\bolletta.pdf`: "bolletta.pdf",
		"../../etc/passwd.pdf":                "passwd.pdf",
		"fattura\u202egpj.pdf":                "fatturagpj.pdf", // no right-to-left override
		"riga\nnuova.pdf":                     "riganuova.pdf",
		"   ":                                 "allegato.pdf",
		strings.Repeat("è", 300) + ".pdf":     strings.Repeat("è", 255),
	} {
		a, err := b.store.SaveAttachment(b.ctx, b.tenant.ID, crm.AttachmentUpload{Name: given, Data: pdfFile, ContactID: contact})
		require.NoError(t, err)
		require.Equal(t, want, a.Name, "from %q", given)
	}
}

func TestAContactSeesTheirOwnFilesAndThoseOfTheirConversations(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.openConversation(t, "Mario Rossi")
	mine, err := b.store.SaveAttachment(b.ctx, b.tenant.ID, crm.AttachmentUpload{Name: "mia.png", Data: pngFile, ContactID: c.ContactID})
	require.NoError(t, err)
	sent, err := b.store.SaveAttachment(b.ctx, b.tenant.ID, crm.AttachmentUpload{Name: "modulo.pdf", Data: pdfFile, StaffID: b.operator.ID})
	require.NoError(t, err)
	noted, err := b.store.SaveAttachment(b.ctx, b.tenant.ID, crm.AttachmentUpload{Name: "interno.pdf", Data: pdfFile, StaffID: b.operator.ID})
	require.NoError(t, err)
	_, err = b.store.PostReply(b.ctx, b.operator.Actor(), c.ID, crm.Reply{Text: "Ecco", Attachments: []crm.Attachment{sent}})
	require.NoError(t, err)
	_, err = b.store.PostReply(b.ctx, b.operator.Actor(), c.ID, crm.Reply{Text: "Solo per noi", Private: true,
		Attachments: []crm.Attachment{noted}})
	require.NoError(t, err)
	stranger := b.visitor(t, "", "")
	sees := func(contact int64, a crm.Attachment) bool {
		f, err := b.store.ContactAttachment(b.ctx, b.tenant.ID, contact, a.Token)
		if err != nil {
			require.ErrorIs(t, err, crm.ErrNotFound)
			return false
		}
		require.Equal(t, a.Token, f.Token)
		return true
	}

	require.True(t, sees(c.ContactID, mine))
	require.True(t, sees(c.ContactID, sent))
	require.False(t, sees(c.ContactID, noted), "a private note's file")
	require.False(t, sees(stranger, mine))
	require.False(t, sees(stranger, sent))
	f, err := b.store.Attachment(b.ctx, b.tenant.ID, noted.Token)
	require.NoError(t, err, "staff see every file of the ente")
	require.Equal(t, pdfFile, f.Data)
	require.Equal(t, b.operator.ID, f.StaffID)
}

func TestFilesFollowTheirContactIntoAMerge(t *testing.T) {
	t.Parallel()
	b := setup(t)
	anonymous := b.visitor(t, "", "")
	known := b.importCitizen(t, citizenRecord(1, "Mario", "Rossi"))
	a, err := b.store.SaveAttachment(b.ctx, b.tenant.ID, crm.AttachmentUpload{Name: "foto.png", Data: pngFile, ContactID: anonymous})
	require.NoError(t, err)
	_, err = b.store.Merge(b.ctx, b.supervisor.Actor(), known, anonymous, "stessa persona")
	require.NoError(t, err)

	got, err := b.store.ContactAttachments(b.ctx, b.tenant.ID, known, []string{a.Token})
	require.NoError(t, err)
	require.Equal(t, []crm.Attachment{{Name: "foto.png", ContentType: "image/png", Size: a.Size, SHA256: a.SHA256, Token: a.Token}}, got)
	_, err = b.store.ContactAttachment(b.ctx, b.tenant.ID, known, a.Token)
	require.NoError(t, err)
}

func TestContactAttachmentsRefusesAnotherContactsOrAnUnknownToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	owner := b.visitor(t, "", "")
	other := b.visitor(t, "", "")
	first, err := b.store.SaveAttachment(b.ctx, b.tenant.ID, crm.AttachmentUpload{Name: "a.png", Data: pngFile, ContactID: owner})
	require.NoError(t, err)
	second, err := b.store.SaveAttachment(b.ctx, b.tenant.ID, crm.AttachmentUpload{Name: "b.pdf", Data: pdfFile, ContactID: owner})
	require.NoError(t, err)

	got, err := b.store.ContactAttachments(b.ctx, b.tenant.ID, owner, []string{second.Token, first.Token})
	require.NoError(t, err)
	require.Equal(t, []string{"b.pdf", "a.png"}, []string{got[0].Name, got[1].Name}, "in the order asked")

	_, err = b.store.ContactAttachments(b.ctx, b.tenant.ID, other, []string{first.Token})
	requireInvalidField(t, err, "attachments[0]")
	_, err = b.store.ContactAttachments(b.ctx, b.tenant.ID, owner, []string{first.Token, "no-such-token"})
	requireInvalidField(t, err, "attachments[1]")
}
