package widget

import (
	"strings"

	"github.com/dialogo-pa/dialogo/web/i18n"
)

// widgetTexts is the widget's catalog. The keys starting with "js." are the
// chat client's: they go to the page in its configuration, where %s and %d are
// replaced in order as by fmt.
type widgetTexts struct{ i18n.Catalog }

// client returns the chat client's texts in lang, without the "js." prefix.
func (c widgetTexts) client(lang string) map[string]string {
	out := map[string]string{}
	for k := range c.Catalog {
		if name, ok := strings.CutPrefix(k, "js."); ok {
			out[name] = c.T(lang, k)
		}
	}
	return out
}

var texts = widgetTexts{i18n.Catalog{
	// The page.
	"page.title":       {"it": "Assistenza – %s", "en": "Help – %s"},
	"page.tagline":     {"it": "Assistenza ai cittadini", "en": "Help for citizens"},
	"page.heading":     {"it": "Scrivi al Comune", "en": "Write to the Comune"},
	"page.intro":       {"it": "Scrivi qui la tua domanda: ti risponde un operatore del Comune appena possibile.", "en": "Write your question here: a member of the Comune's staff answers as soon as possible."},
	"page.skip":        {"it": "Vai al messaggio", "en": "Skip to the message box"},
	"page.noscript":    {"it": "Per usare la chat serve JavaScript. Puoi contattare il Comune anche per e-mail o telefono.", "en": "The chat needs JavaScript. You can also reach the Comune by e-mail or telephone."},
	"lang.label":       {"it": "Lingua", "en": "Language"},
	"lang.short":       {"it": "ITA", "en": "ENG"},
	"lang.name":        {"it": "Italiano", "en": "English"},
	"chat.log":         {"it": "Conversazione", "en": "Conversation"},
	"chat.input":       {"it": "Il tuo messaggio", "en": "Your message"},
	"chat.placeholder": {"it": "Scrivi un messaggio…", "en": "Write a message…"},
	"chat.hint":        {"it": "Invio per inviare, Maiusc+Invio per andare a capo.", "en": "Enter sends, Shift+Enter starts a new line."},
	"chat.send":        {"it": "Invia", "en": "Send"},
	"chat.attach":      {"it": "Allega un'immagine o un PDF", "en": "Attach an image or a PDF"},
	"chat.login":       {"it": "Accedi con SPID/CIE", "en": "Log in with SPID/CIE"},
	"chat.close":       {"it": "Chiudi la chat", "en": "Close the chat"},
	"chat.operator":    {"it": "Parla con un operatore", "en": "Talk to an operator"},

	// The page when the ente's virtual assistant answers first.
	"page.intro_assistant": {"it": "Scrivi qui la tua domanda: ti risponde l'assistente virtuale del Comune. Se preferisci, puoi parlare con un operatore in qualsiasi momento.", "en": "Write your question here: the Comune's virtual assistant answers. If you prefer, you can talk to an operator at any time."},

	// The error page.
	"error.404.title": {"it": "Pagina non trovata", "en": "Page not found"},
	"error.404.text":  {"it": "Questo indirizzo non corrisponde alla chat di nessun Comune. Controlla l'indirizzo, o cerca la chat nel sito del tuo Comune.", "en": "This address is not the chat of any Comune. Check the address, or look for the chat on your Comune's website."},
	"error.500.title": {"it": "Si è verificato un errore", "en": "Something went wrong"},
	"error.500.text":  {"it": "La chat non è disponibile in questo momento. Riprova tra qualche minuto.", "en": "The chat is not available right now. Please try again in a few minutes."},

	// The page of a source of the knowledge base.
	"source.skip":      {"it": "Vai al contenuto", "en": "Skip to the content"},
	"source.back":      {"it": "Torna alla chat", "en": "Back to the chat"},
	"source.note":      {"it": "Questa è la versione della pagina che l'assistente virtuale consulta.", "en": "This is the version of the page that the virtual assistant consults."},
	"source.updated":   {"it": "Ultimo aggiornamento:", "en": "Last updated:"},
	"source.owner":     {"it": "La pagina fa parte delle informazioni condivise da %s.", "en": "The page is part of the information shared by %s."},
	"source.empty":     {"it": "Questa pagina non contiene testo.", "en": "This page has no text."},
	"error.404.source": {"it": "Questa pagina non è tra quelle che l'assistente virtuale consulta: forse è stata rimossa. Puoi fare la tua domanda nella chat del Comune.", "en": "This page is not one of those the virtual assistant consults: it may have been removed. You can ask your question in the Comune's chat."},

	// The embed script's launcher.
	"embed.launcher": {"it": "Hai bisogno di aiuto?", "en": "Need help?"},
	"embed.title":    {"it": "Chat di assistenza – %s", "en": "Help chat – %s"},
	"embed.unread":   {"it": "(%d da leggere)", "en": "(%d unread)"},

	// The chat client.
	"js.connecting":         {"it": "Connessione in corso…", "en": "Connecting…"},
	"js.lost":               {"it": "Connessione persa, riprovo…", "en": "Connection lost, retrying…"},
	"js.restored":           {"it": "Connessione ripristinata", "en": "Connection restored"},
	"js.offline":            {"it": "Sei offline: i messaggi partiranno appena torna la connessione.", "en": "You are offline: your messages will be sent when the connection is back."},
	"js.status_assistant":   {"it": "Stai parlando con l'assistente virtuale del Comune. Puoi chiedere un operatore in qualsiasi momento.", "en": "You are talking with the Comune's virtual assistant. You can ask for an operator at any time."},
	"js.status_queued":      {"it": "In attesa di un operatore", "en": "Waiting for a member of staff"},
	"js.status_position":    {"it": "In attesa di un operatore: sei %d° in coda", "en": "Waiting for a member of staff: you are number %d in the queue"},
	"js.status_assigned":    {"it": "Un operatore sta seguendo la conversazione", "en": "A member of staff is handling your conversation"},
	"js.status_resolved":    {"it": "Conversazione chiusa. Se scrivi di nuovo, ne inizia una nuova.", "en": "Conversation closed. Writing again starts a new one."},
	"js.typing":             {"it": "%s sta scrivendo…", "en": "%s is typing…"},
	"js.typing_operator":    {"it": "L'operatore sta scrivendo…", "en": "The operator is typing…"},
	"js.you":                {"it": "Tu", "en": "You"},
	"js.operator":           {"it": "Operatore", "en": "Operator"},
	"js.assistant":          {"it": "Assistente virtuale", "en": "Virtual assistant"},
	"js.sending":            {"it": "Invio in corso…", "en": "Sending…"},
	"js.sent":               {"it": "Inviato", "en": "Sent"},
	"js.waiting":            {"it": "In attesa di inviare", "en": "Waiting to be sent"},
	"js.failed":             {"it": "Non inviato", "en": "Not sent"},
	"js.new_window":         {"it": "(si apre in una nuova finestra)", "en": "(opens in a new window)"},
	"js.new_conversation":   {"it": "Nuova conversazione", "en": "New conversation"},
	"js.verified":           {"it": "Identità verificata: %s", "en": "Verified identity: %s"},
	"js.verified_anonymous": {"it": "Identità verificata", "en": "Verified identity"},
	"js.uploading":          {"it": "Caricamento di %s…", "en": "Uploading %s…"},
	"js.uploaded":           {"it": "%s allegato", "en": "%s attached"},
	"js.remove":             {"it": "Rimuovi %s", "en": "Remove %s"},
	"js.attachment":         {"it": "Allegato: %s", "en": "Attachment: %s"},
	"js.upload_failed":      {"it": "Non è stato possibile caricare il file. Riprova.", "en": "The file could not be uploaded. Please try again."},
	"js.too_big":            {"it": "Il file è troppo grande: il massimo è %s.", "en": "The file is too big: the most is %s."},
	"js.too_long":           {"it": "Il messaggio è troppo lungo: il massimo è %d caratteri.", "en": "The message is too long: the most is %d characters."},
	"js.retry_in":           {"it": "Il messaggio verrà inviato tra %d secondi.", "en": "The message will be sent in %d seconds."},
	"js.login_ok":           {"it": "Accesso eseguito con SPID/CIE.", "en": "You are logged in with SPID/CIE."},
	"js.login_cancelled":    {"it": "Accesso annullato: puoi continuare a scrivere senza accedere.", "en": "Login cancelled: you can go on writing without logging in."},
	"js.login_failed":       {"it": "Non è stato possibile completare l'accesso con SPID/CIE. Riprova più tardi.", "en": "The login with SPID/CIE could not be completed. Please try again later."},
	"js.error":              {"it": "Il messaggio non è stato accettato.", "en": "The message was not accepted."},
	"js.operator_request":   {"it": "Vorrei parlare con un operatore", "en": "I would like to talk to an operator"},
	"js.feedback_question":  {"it": "Ti è stata utile?", "en": "Was this helpful?"},
	"js.useful":             {"it": "Utile", "en": "Helpful"},
	"js.not_useful":         {"it": "Non utile", "en": "Not helpful"},
	"js.feedback_thanks":    {"it": "Grazie, la tua valutazione è stata registrata.", "en": "Thank you, your rating has been recorded."},
}}
