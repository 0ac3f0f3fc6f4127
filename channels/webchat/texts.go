package webchat

import (
	"fmt"

	"github.com/dialogo-pa/dialogo/web/i18n"
)

// texts are the sentences the server itself says to the citizen: the
// message of error frames, the detail of problems, the login pages.
var texts = i18n.Catalog{
	"bad_frame": {
		"it": "La chat ha ricevuto dati che non comprende. Se succede ancora, ricarica la pagina.",
		"en": "The chat received data it does not understand. If this happens again, reload the page.",
	},
	"not_ready": {
		"it": "La chat non è ancora pronta: attendi qualche secondo.",
		"en": "The chat is not ready yet: please wait a few seconds.",
	},
	"frame_too_large": {
		"it": "Il messaggio è troppo grande per essere inviato.",
		"en": "The message is too large to be sent.",
	},
	"text_too_long": {
		"it": "Il messaggio è troppo lungo: puoi scrivere al massimo %d caratteri.",
		"en": "The message is too long: you can write up to %d characters.",
	},
	"rate_limited": {
		"it": "Hai inviato molti messaggi in poco tempo: il messaggio partirà tra %d secondi.",
		"en": "You have sent many messages in a short time: this one will go in %d seconds.",
	},
	"empty_message": {
		"it": "Scrivi un messaggio o allega un file.",
		"en": "Write a message or attach a file.",
	},
	"invalid_message": {
		"it": "Il messaggio non è valido e non è stato inviato. Ricarica la pagina e riprova.",
		"en": "The message is not valid and was not sent. Reload the page and try again.",
	},
	"too_many_attachments": {
		"it": "Puoi allegare al massimo %d file a un messaggio.",
		"en": "You can attach up to %d files to a message.",
	},
	"unknown_attachment": {
		"it": "Uno degli allegati non è più disponibile: caricalo di nuovo.",
		"en": "One of the attachments is no longer available: please upload it again.",
	},
	"bad_identity": {
		"it": "Non è stato possibile riconoscerti: la chat continua in forma anonima.",
		"en": "We could not recognise you: the chat goes on anonymously.",
	},
	"unavailable": {
		"it": "Il servizio non è disponibile in questo momento: il messaggio verrà inviato appena possibile.",
		"en": "The service is not available right now: the message will be sent as soon as possible.",
	},
	"invalid_feedback": {
		"it": "Non è possibile valutare questo messaggio.",
		"en": "This message cannot be rated.",
	},
	"feedback_rate_limited": {
		"it": "Hai inviato molte valutazioni in poco tempo: la tua valutazione verrà registrata tra %d secondi.",
		"en": "You have sent many ratings in a short time: yours will be recorded in %d seconds.",
	},
	"feedback_unavailable": {
		"it": "Il servizio non è disponibile in questo momento: la tua valutazione verrà registrata appena possibile.",
		"en": "The service is not available right now: your rating will be recorded as soon as possible.",
	},
	"assistant": {
		"it": "Assistente virtuale",
		"en": "Virtual assistant",
	},

	// Attachments.
	"attachment_type": {
		"it": "Puoi inviare solo immagini (PNG, JPEG, GIF o WebP) e documenti PDF.",
		"en": "You can only send pictures (PNG, JPEG, GIF or WebP) and PDF documents.",
	},
	"attachment_too_large": {
		"it": "Il file è troppo grande: puoi inviare file fino a %s.",
		"en": "The file is too large: you can send files of up to %s.",
	},
	"attachment_empty": {
		"it": "Il file è vuoto.",
		"en": "The file is empty.",
	},
	"attachment_missing": {
		"it": "Scegli un file da inviare.",
		"en": "Choose a file to send.",
	},
	"attachment_rate_limited": {
		"it": "Hai inviato molti file in poco tempo: riprova tra %d secondi.",
		"en": "You have sent many files in a short time: try again in %d seconds.",
	},
	"attachment_not_found": {
		"it": "Il file non è disponibile.",
		"en": "The file is not available.",
	},
	"visitor_required": {
		"it": "La sessione della chat non è valida: ricarica la pagina.",
		"en": "The chat session is not valid: please reload the page.",
	},
	"ente_not_found": {
		"it": "Questo ente non usa la chat.",
		"en": "This ente does not use the chat.",
	},
	"internal": {
		"it": "Si è verificato un errore: riprova tra poco.",
		"en": "Something went wrong: please try again shortly.",
	},

	// Login.
	"login_off": {
		"it": "L'accesso con SPID o CIE non è disponibile per questa chat.",
		"en": "Logging in with SPID or CIE is not available for this chat.",
	},
	"login_failed_title": {
		"it": "Accesso non riuscito",
		"en": "Login failed",
	},
	"login_failed": {
		"it": "Non è stato possibile completare l'accesso. Torna alla chat e riprova.",
		"en": "The login could not be completed. Go back to the chat and try again.",
	},
	"login_cross_site": {
		"it": "Per sicurezza, l'accesso si avvia solo dal pulsante «Accedi con SPID/CIE» della chat.",
		"en": "For your safety, the login starts only from the chat's “Log in with SPID/CIE” button.",
	},
	"back_to_chat": {
		"it": "Torna alla chat",
		"en": "Back to the chat",
	},
}

// formatSize writes a size limit for people: "10 MB", "500 KB".
func formatSize(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MB", (n+(1<<19))>>20)
	}
	return fmt.Sprintf("%d KB", (n+(1<<9))>>10)
}
