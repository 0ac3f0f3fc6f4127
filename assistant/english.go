package assistant

import "strings"

// The knowledge base is written in Italian. A question in English is searched
// with the Italian words of a small glossary of municipal services in place
// of the English ones it knows; words it does not know (names such as TARI,
// pagoPA, SPID) are kept as they are. With a language model configured the
// model reads the original question and answers in English.

// englishPhrases are replaced before single words: longest first.
var englishPhrases = [][2]string{
	{"public relations office", "ufficio relazioni con il pubblico urp"},
	{"registry office", "anagrafe ufficio anagrafe"},
	{"identity card", "carta d'identità"},
	{"id card", "carta d'identità"},
	{"waste tax", "tassa rifiuti tari"},
	{"rubbish tax", "tassa rifiuti tari"},
	{"garbage tax", "tassa rifiuti tari"},
	{"opening hours", "orari apertura"},
	{"office hours", "orari apertura"},
	{"school meals", "mensa scolastica"},
	{"school canteen", "mensa scolastica"},
	{"limited traffic zone", "zona traffico limitato ztl"},
	{"bulky waste", "rifiuti ingombranti"},
	{"new address", "cambio residenza indirizzo"},
	{"change of address", "cambio residenza indirizzo"},
	{"birth certificate", "certificato nascita"},
	{"rent support", "contributo affitto"},
	{"how much", "quanto costo"},
	{"how long", "quanto tempo durata"},
}

var englishGlossary = map[string]string{
	"identity": "identità", "card": "carta", "electronic": "elettronica", "cost": "costo costa", "costs": "costo costa",
	"price": "costo", "fee": "costo tariffa", "fees": "costo tariffe", "pay": "pagare pagamento", "paying": "pagare pagamento",
	"payment": "pagamento", "payments": "pagamenti", "bill": "avviso pagamento", "bills": "avvisi pagamento",
	"municipal": "comunale", "waste": "rifiuti", "rubbish": "rifiuti", "garbage": "rifiuti", "tax": "tassa",
	"due": "scadenza", "deadline": "scadenza", "deadlines": "scadenze", "register": "iscrizione registrare",
	"registration": "iscrizione", "address": "indirizzo residenza", "moving": "trasferimento residenza",
	"move": "trasferimento residenza", "moved": "trasferimento residenza", "residence": "residenza",
	"resident": "residente", "residents": "residenti", "certificate": "certificato", "certificates": "certificati",
	"birth": "nascita", "marriage": "matrimonio", "family": "famiglia", "school": "scuola", "meals": "mensa",
	"meal": "mensa", "canteen": "mensa", "lunch": "mensa pasto", "nursery": "asilo nido", "daycare": "asilo nido",
	"parking": "sosta parcheggio", "permit": "permesso", "permits": "permessi", "traffic": "traffico",
	"zone": "zona", "appointment": "appuntamento", "appointments": "appuntamenti", "book": "prenotare prenotazione",
	"booking": "prenotazione", "video": "video videochiamata", "office": "ufficio", "opening": "apertura",
	"hours": "orari", "open": "aperto orari", "public": "pubblico", "rent": "affitto", "renting": "affitto",
	"contribution": "contributo", "allowance": "contributo", "grant": "contributo", "bulky": "ingombranti",
	"collection": "raccolta ritiro", "pickup": "ritiro", "report": "segnalazione segnalare", "fault": "guasto",
	"broken": "guasto rotto", "streetlight": "illuminazione lampione", "pothole": "buca", "driveway": "passo carrabile",
	"login": "accesso", "log": "accesso", "documents": "documenti", "document": "documento", "need": "servono",
	"renew": "rinnovo rinnovare", "renewal": "rinnovo", "lost": "smarrimento smarrita", "stolen": "furto rubata",
	"minor": "minore", "child": "figli minore", "children": "figli", "photo": "fototessera foto",
	"valid": "validità", "validity": "validità", "expire": "scadenza", "expires": "scadenza", "fine": "multa sanzione",
	"refund": "rimborso", "notice": "avviso", "notices": "avvisi", "request": "richiesta richiedere",
	"apply": "domanda richiedere", "application": "domanda", "online": "online", "town": "comune",
	"city": "comune", "council": "comune",
}

// englishStopwords are dropped from a question in English.
var englishStopwords = wordSet(`a an the is are was were be been do does did how what when where which who whom why
	can could should would will shall may might must i me my mine we our you your he she it its they them their
	this that these those there here to of for in on at by with from into about after before as and or but if
	not no yes please hello hi thanks thank get got have has had much many any some`)

// italianQuery rewrites a question in English with the glossary's Italian words.
func italianQuery(question string) string {
	n := normalize(question)
	for _, p := range englishPhrases {
		n = strings.ReplaceAll(n, " "+p[0]+" ", " "+p[1]+" ")
	}
	var out []string
	for _, w := range strings.Fields(n) {
		if it, ok := englishGlossary[w]; ok {
			out = append(out, it)
		} else if !englishStopwords[w] {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}
