package assistant

// phrases are what the assistant says, in one language. Format verbs are
// documented where a phrase takes them.
type phrases struct {
	greeting        string // %s: the ente's name
	thanks          string
	extractiveIntro string // %s: the page and section
	source          string
	sources         string
	seeAlso         string
	unknown         string
	unknownAgain    string
	attachmentOnly  string

	handoff          string // %s: the team's name
	handoffRequested string
	handoffFailures  string
	handoffDistress  string
	handoffPersonal  string
	emergency        string
	position         string // %d: the place in the queue
	wait             string // %d: minutes
	onDuty           string
	nobodyOnDuty     string
	officeHours      string // %s: the office hours
	alternatives     string // %s: the alternatives

	loginChat     string
	loginEmail    string
	noPratiche    string
	pratica       string // %s title, %s reference, %s status, %s date
	praticaStep   string // %s the latest note
	praticheMore  string // %d how many more
	noAvvisi      string
	avvisiIntro   string // %d how many
	avviso        string // %s description, %s amount, %s due date, %s notice number
	avvisoOverdue string
	avvisiPay     string
	noAppointment string
	appointment   string // %s service, %s day, %s time, %s place, %s reference
	modeVideo     string
	modePhone     string
	personalMore  string

	summaryTitle string
	summaryAsked string
	summaryBot   string
	reasons      map[string]string
	kinds        map[string]string
}

var texts = map[string]phrases{
	"it": {
		greeting: "Buongiorno! Sono l'assistente virtuale del %s. Posso rispondere alle domande sui servizi " +
			"del Comune (carta d'identità, residenza, certificati, TARI, mensa scolastica, ZTL e sosta, pagamenti, " +
			"appuntamenti) e, se accedi con SPID o CIE, sulle tue pratiche, i tuoi avvisi di pagamento e i tuoi " +
			"appuntamenti. Quando vuoi, puoi chiedere di parlare con un operatore.",
		thanks:          "Prego! Se hai altre domande sono qui. Se ti serve una persona, scrivi «operatore».",
		extractiveIntro: "Ecco cosa dice la pagina «%s»:",
		source:          "Fonte: ",
		sources:         "Fonti:",
		seeAlso:         "Vedi anche: ",
		unknown: "Mi dispiace, non ho trovato questa informazione nelle pagine del Comune e preferisco non darti " +
			"un'indicazione sbagliata. Puoi provare a riformulare la domanda, oppure scrivere «operatore» per " +
			"parlare con una persona.",
		unknownAgain: "Non sono riuscito a trovare una risposta sicura alle tue domande.",
		attachmentOnly: "Ho ricevuto il tuo file, ma non posso leggerlo io: se vuoi che lo veda un operatore, " +
			"scrivi «operatore».",

		handoff:          "Ti metto in contatto con un operatore (%s).",
		handoffRequested: "Certo.",
		handoffFailures:  "Non sono riuscito a trovare una risposta sicura alle tue domande.",
		handoffDistress:  "Mi dispiace per la situazione: è meglio che ti risponda una persona.",
		handoffPersonal:  "Per questa domanda serve una persona.",
		emergency:        "Se tu o qualcun altro siete in pericolo, chiama subito il numero di emergenza 112.",
		position:         "Sei al %d° posto in coda",
		wait:             ", l'attesa stimata è di circa %d minuti",
		onDuty:           ". Resta pure in questa chat: ti risponderemo qui.",
		nobodyOnDuty: "In questo momento non ci sono operatori disponibili. Lascia pure qui il tuo messaggio: " +
			"ti risponderemo appena possibile, in questa conversazione.",
		officeHours:  "Il servizio è attivo %s.",
		alternatives: "In alternativa: %s",

		loginChat: "Per risponderti sui tuoi dati devo essere sicuro che sei tu: accedi con SPID o CIE " +
			"(pulsante «Accedi con SPID o CIE» in questa chat) e poi ripeti la domanda.",
		loginEmail: "Per proteggere i tuoi dati non do informazioni personali per e-mail. Puoi chiederle nella chat " +
			"del sito del Comune dopo aver effettuato l'accesso con SPID o CIE.",
		noPratiche:    "Non risultano pratiche a tuo nome.",
		pratica:       "La tua pratica «%s» (rif. %s) è nello stato: %s (aggiornata il %s).",
		praticaStep:   "Ultimo aggiornamento: %s",
		praticheMore:  "Hai altre %d pratiche: chiedi a un operatore se vuoi i dettagli.",
		noAvvisi:      "Non risultano avvisi pagoPA da pagare a tuo nome.",
		avvisiIntro:   "Risultano %d avvisi pagoPA da pagare a tuo nome:",
		avviso:        "• %s: %s, scadenza %s (codice avviso %s)",
		avvisoOverdue: " — scaduto",
		avvisiPay:     "Puoi pagarli con pagoPA (app IO, home banking, sportelli, tabaccherie) usando il codice avviso.",
		noAppointment: "Non risultano appuntamenti prenotati a tuo nome.",
		appointment:   "Il tuo prossimo appuntamento: %s, %s alle %s, %s (rif. %s).",
		modeVideo:     "in videochiamata",
		modePhone:     "per telefono",
		personalMore:  "I dati vengono dal tuo fascicolo presso il Comune. Per altro puoi chiedere un operatore.",

		summaryTitle: "Riepilogo dell'assistente virtuale — motivo: %s",
		summaryAsked: "Il cittadino ha chiesto:",
		summaryBot:   "L'assistente ha risposto:",
		reasons: map[string]string{
			"requested": "il cittadino ha chiesto un operatore",
			"failures":  "l'assistente non ha trovato risposte",
			"distress":  "il cittadino sembra in difficoltà",
			"personal":  "domanda sul fascicolo",
		},
		kinds: map[string]string{
			"answer": "risposta dalla base di conoscenza", "unknown": "non lo sapeva",
			"personal": "risposta dal fascicolo", "login": "invito ad accedere con SPID/CIE",
			"greeting": "saluto", "thanks": "ringraziamento", "handoff": "passaggio all'operatore",
		},
	},
	"en": {
		greeting: "Hello! I am the virtual assistant of the %s. I can answer questions about the city's services " +
			"(identity card, residence, certificates, waste tax, school meals, ZTL and parking, payments, appointments) " +
			"and, once you log in with SPID or CIE, about your applications, payment notices and appointments. " +
			"You can ask to talk to an operator at any time.",
		thanks:          "You're welcome! I'm here if you have other questions. If you need a person, write \"operator\".",
		extractiveIntro: "Here is what the page «%s» says (in Italian):",
		source:          "Source: ",
		sources:         "Sources:",
		seeAlso:         "See also: ",
		unknown: "I'm sorry, I could not find this in the city's pages and I'd rather not give you wrong " +
			"information. You can rephrase your question, or write \"operator\" to talk to a person.",
		unknownAgain:   "I could not find a reliable answer to your questions.",
		attachmentOnly: "I received your file but I cannot read it myself: write \"operator\" if you want a person to look at it.",

		handoff:          "I am putting you in touch with an operator (%s).",
		handoffRequested: "Of course.",
		handoffFailures:  "I could not find a reliable answer to your questions.",
		handoffDistress:  "I'm sorry about this: a person should answer you.",
		handoffPersonal:  "A person needs to answer this question.",
		emergency:        "If you or someone else is in danger, call the emergency number 112 now.",
		position:         "You are number %d in the queue",
		wait:             ", the expected wait is about %d minutes",
		onDuty:           ". Stay in this chat: we will answer you here.",
		nobodyOnDuty: "No operator is available right now. Leave your message here: we will answer as soon as " +
			"possible, in this conversation.",
		officeHours:  "The service is staffed %s.",
		alternatives: "Alternatively: %s",

		loginChat: "To answer about your own data I need to be sure it's you: log in with SPID or CIE (the " +
			"\"Log in with SPID or CIE\" button in this chat), then ask again.",
		loginEmail: "To protect your data I do not give personal information by e-mail. You can ask in the chat on " +
			"the city's website after logging in with SPID or CIE.",
		noPratiche:    "There are no applications in your name.",
		pratica:       "Your application «%s» (ref. %s) is: %s (updated on %s).",
		praticaStep:   "Latest update: %s",
		praticheMore:  "You have %d more applications: ask an operator for details.",
		noAvvisi:      "There are no pagoPA payment notices to pay in your name.",
		avvisiIntro:   "There are %d pagoPA payment notices to pay in your name:",
		avviso:        "• %s: %s, due %s (notice code %s)",
		avvisoOverdue: " — overdue",
		avvisiPay:     "You can pay them with pagoPA (app IO, home banking, PSPs, tobacconists) using the notice code.",
		noAppointment: "There are no appointments booked in your name.",
		appointment:   "Your next appointment: %s, %s at %s, %s (ref. %s).",
		modeVideo:     "by video call",
		modePhone:     "by phone",
		personalMore:  "This comes from your file at the city. For anything else you can ask an operator.",
	},
}
