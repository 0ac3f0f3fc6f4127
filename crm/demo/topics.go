package demo

import "github.com/dialogo-pa/dialogo/crm"

// topic is a conversation a citizen may have with the Comune: its turns
// alternate, the citizen first. Placeholders in braces are filled in per person
// and Comune: {nome}, {citta}, {ente}, {ztl}, {via}, {ref}, {figlio}, {anagrafe}.
type topic struct {
	Key        string
	Team       string // the team's slug
	Subject    string
	Turns      []string
	Attach     map[int]crm.Attachment // by turn
	NeedsChild bool
}

func pdf(name string, size int64) crm.Attachment {
	return crm.Attachment{Name: name, ContentType: "application/pdf", Size: size}
}

var topics = []topic{
	{
		Key: "residenza", Team: "anagrafe", Subject: "Cambio di residenza",
		Turns: []string{
			"Buongiorno, il mese scorso mi sono trasferito a {citta} da un altro Comune. Come presento la dichiarazione di residenza? Devo venire in ufficio?",
			"Buongiorno {nome}, la dichiarazione di residenza si presenta online sul portale ANPR, accedendo con SPID o CIE, oppure allo sportello anagrafe su appuntamento. Servono i documenti d'identità di chi si trasferisce e il titolo che le permette di abitare nell'alloggio (contratto d'affitto o atto di proprietà).",
			"Fatto online, grazie. Entro quanto tempo viene confermata?",
			"L'iscrizione decorre dalla data della dichiarazione. Entro 45 giorni la Polizia locale verifica che lei abiti all'indirizzo indicato: se nel frattempo non riceve comunicazioni, la residenza è confermata. Può seguire lo stato della pratica nel suo fascicolo.",
		},
	},
	{
		Key: "cie-urgente", Team: "anagrafe", Subject: "Appuntamento per la carta d'identità elettronica",
		Turns: []string{
			"Salve, la mia carta d'identità scade il mese prossimo e sull'agenda online non trovo appuntamenti liberi. Come posso fare?",
			"Buongiorno {nome}, le nuove disponibilità vengono pubblicate ogni settimana sull'agenda online: le consiglio di controllare nei prossimi giorni. Se ha un'urgenza documentata (un viaggio, un concorso, motivi di salute) ce la indichi e valutiamo un appuntamento prioritario.",
			"Ho un volo fra tre settimane, allego la prenotazione.",
			"Grazie, le abbiamo fissato un appuntamento prioritario presso {anagrafe}: trova data e ora nel suo fascicolo. Porti una fototessera recente, il documento in scadenza e la tessera sanitaria. La carta viene spedita dal Poligrafico entro sei giorni lavorativi.",
		},
		Attach: map[int]crm.Attachment{2: pdf("prenotazione-volo.pdf", 48_213)},
	},
	{
		Key: "certificato", Team: "anagrafe", Subject: "Certificato di stato di famiglia",
		Turns: []string{
			"Mi serve un certificato di stato di famiglia per la banca. Devo prendere appuntamento allo sportello?",
			"Buongiorno {nome}, non serve: i certificati anagrafici si scaricano gratis e subito dal portale ANPR con SPID o CIE, anche per i componenti della sua famiglia. Ricordi che a una pubblica amministrazione non si presentano certificati ma un'autocertificazione; per la banca invece va benissimo.",
			"Perfetto, l'ho scaricato. Grazie mille!",
			"Bene, buona giornata!",
		},
	},
	{
		Key: "cie-smarrita", Team: "anagrafe", Subject: "Carta d'identità smarrita",
		Turns: []string{
			"Ho perso il portafoglio con la carta d'identità dentro. Cosa devo fare per averne una nuova?",
			"Mi dispiace, {nome}. Per prima cosa presenti la denuncia di smarrimento ai Carabinieri o alla Polizia di Stato; poi prenoti l'appuntamento per la nuova carta portando la denuncia, una fototessera e la tessera sanitaria.",
			"Ho fatto la denuncia stamattina, vi allego la copia.",
			"Ricevuta, grazie. Può prenotare dall'agenda online; se entro una settimana non trova posti ci riscriva e le fissiamo noi l'appuntamento.",
		},
		Attach: map[int]crm.Attachment{2: pdf("denuncia-smarrimento.pdf", 211_540)},
	},
	{
		Key: "tari-superficie", Team: "tributi", Subject: "TARI: superficie errata",
		Turns: []string{
			"Buongiorno, nell'avviso TARI di quest'anno la superficie dell'appartamento è di 95 metri quadri, ma la casa ne misura 72. Come posso farla correggere?",
			"Buongiorno {nome}, può presentare una dichiarazione TARI di variazione con la superficie corretta, allegando la planimetria catastale. Dopo la verifica le inviamo un avviso di conguaglio e la differenza le viene riconosciuta.",
			"Ho inviato la dichiarazione con la planimetria. Nel frattempo devo pagare la rata?",
			"Sì, le consigliamo di pagarla entro la scadenza per evitare sanzioni: quanto versato in più le verrà scalato dalla rata successiva o rimborsato.",
		},
	},
	{
		Key: "pagopa-non-risulta", Team: "tributi", Subject: "Pagamento pagoPA non registrato",
		Turns: []string{
			"Ho pagato un avviso con pagoPA dall'app della banca, ma nel mio fascicolo risulta ancora da pagare.",
			"Buongiorno {nome}, i pagamenti pagoPA vengono di solito registrati entro due o tre giorni lavorativi. Mi può mandare la ricevuta del pagamento?",
			"Ecco la ricevuta.",
			"Grazie, il pagamento risulta incassato: l'avviso verrà aggiornato a breve, non deve fare altro.",
		},
		Attach: map[int]crm.Attachment{2: pdf("ricevuta-pagopa.pdf", 35_904)},
	},
	{
		Key: "tari-rate", Team: "tributi", Subject: "Rateizzazione TARI arretrata",
		Turns: []string{
			"Ho ricevuto un sollecito per la TARI dell'anno scorso che non avevo pagato. Posso pagarla a rate?",
			"Buongiorno {nome}, sì: per gli importi arretrati può chiedere la rateizzazione con il modulo che trova sul sito del Comune. Nel frattempo l'avviso resta pagabile con pagoPA.",
			"Compilato e inviato, grazie.",
			"Ricevuto. Le comunicheremo il piano di rateizzazione appena approvato.",
		},
	},
	{
		Key: "mensa-iscrizione", Team: "scuola", Subject: "Iscrizione alla mensa scolastica", NeedsChild: true,
		Turns: []string{
			"Buongiorno, come iscrivo {figlio} alla mensa della scuola primaria per il prossimo anno? La retta dipende dall'ISEE?",
			"Buongiorno {nome}, l'iscrizione al servizio di ristorazione scolastica si fa online con SPID o CIE nel periodo indicato sul sito. Sì, la retta dipende dall'ISEE: senza ISEE si applica la tariffa massima.",
			"Non ho ancora l'ISEE aggiornato, posso fare l'iscrizione lo stesso?",
			"Certo: può fare subito l'iscrizione e presentare l'ISEE più avanti; la tariffa ridotta si applica dal mese successivo alla presentazione.",
		},
	},
	{
		Key: "dieta-speciale", Team: "scuola", Subject: "Dieta speciale in mensa", NeedsChild: true,
		Turns: []string{
			"Buongiorno, {figlio} ha la celiachia: come chiedo la dieta speciale in mensa?",
			"Buongiorno {nome}, serve la richiesta di dieta sanitaria con il certificato del pediatra: il menù personalizzato viene attivato pochi giorni dopo.",
			"Ecco il certificato del pediatra.",
			"Ricevuto, abbiamo inoltrato la richiesta al servizio dietetico. Le confermeremo l'attivazione.",
		},
		Attach: map[int]crm.Attachment{2: pdf("certificato-pediatra.pdf", 102_377)},
	},
	{
		Key: "centri-estivi", Team: "scuola", Subject: "Centri estivi",
		Turns: []string{
			"Quando aprono le iscrizioni ai centri estivi comunali?",
			"Buongiorno {nome}, le iscrizioni aprono in primavera: la data viene pubblicata sul sito e inviata a chi ha scelto di ricevere le comunicazioni informative del Comune.",
			"Allora mi iscrivo alle comunicazioni. Grazie!",
		},
	},
	{
		Key: "ztl-permesso", Team: "mobilita", Subject: "Accessi residenti {ztl}",
		Turns: []string{
			"Abito dentro {ztl}. Come registro la mia auto per entrare senza pagare?",
			"Buongiorno {nome}, i residenti registrano la targa nell'area riservata del sito con SPID o CIE, indicando se sono proprietari o utilizzatori del veicolo. La registrazione vale dal giorno dopo.",
			"Ho registrato la targa ma l'auto è aziendale, va bene lo stesso?",
			"Sì, ma deve caricare anche la dichiarazione dell'azienda che le affida il veicolo in uso esclusivo. Controlliamo e le confermiamo entro pochi giorni.",
		},
	},
	{
		Key: "multa", Team: "mobilita", Subject: "Verbale per accesso in {ztl}",
		Turns: []string{
			"Ho ricevuto un verbale per un accesso in {ztl}, ma quel giorno il mio permesso era attivo. Come lo contesto?",
			"Buongiorno {nome}, se il permesso era valido può chiedere l'annullamento in autotutela alla Polizia locale allegando il verbale e il permesso. In alternativa ha 60 giorni per il ricorso al Prefetto o 30 per quello al Giudice di pace.",
			"Invio la richiesta di autotutela con gli allegati.",
			"Ricevuta. La Polizia locale le risponderà per iscritto; la richiesta non sospende i termini per il ricorso.",
		},
		Attach: map[int]crm.Attachment{2: pdf("autotutela-verbale.pdf", 187_020)},
	},
	{
		Key: "passo-carrabile", Team: "mobilita", Subject: "Autorizzazione passo carrabile",
		Turns: []string{
			"Vorrei aprire un passo carrabile davanti al mio box in {via}. Che documenti servono?",
			"Buongiorno {nome}, la domanda si presenta allo sportello telematico con la planimetria, le foto dell'accesso e la marca da bollo. Dopo il sopralluogo riceve l'autorizzazione e il cartello; il canone si paga con pagoPA.",
			"Grazie. Quanto costa il canone all'anno?",
			"Dipende dalla larghezza dell'accesso e dalla zona: l'importo esatto lo trova nell'avviso pagoPA che riceverà con l'autorizzazione.",
		},
	},
	{
		Key: "ingombranti", Team: "urp", Subject: "Ritiro ingombranti",
		Turns: []string{
			"Come faccio a far ritirare un vecchio divano?",
			"Buongiorno {nome}, il ritiro degli ingombranti a domicilio è gratuito: si prenota con il gestore del servizio rifiuti, online o per telefono. In alternativa può portarlo alla piattaforma ecologica.",
			"Perfetto, grazie!",
		},
	},
	{
		Key: "lampione", Team: "urp", Subject: "Segnalazione: lampione spento in {via}",
		Turns: []string{
			"Segnalo un lampione spento in {via} da una settimana: la sera il marciapiede è completamente al buio.",
			"Grazie della segnalazione, {nome}. L'abbiamo inoltrata al servizio di illuminazione pubblica con il numero {ref}; le scriveremo quando l'intervento sarà fatto.",
			"Oggi il lampione funziona, grazie!",
			"Ottimo, chiudiamo la segnalazione. Buona serata!",
		},
	},
	{
		Key: "contributo-affitto", Team: "urp", Subject: "Contributo affitto",
		Turns: []string{
			"È uscito il bando per il contributo affitto? Quali sono i requisiti?",
			"Buongiorno {nome}, il bando è aperto: possono partecipare i titolari di un contratto di locazione registrato con un ISEE entro la soglia indicata nel bando. La domanda si presenta online con SPID o CIE.",
			"Ho presentato la domanda ma mi chiedono un'integrazione. Cosa devo mandare?",
			"Manca la ricevuta dell'ultimo canone pagato: può caricarla dalla pratica nel suo fascicolo oppure inviarla rispondendo qui.",
		},
	},
	{
		Key: "orari", Team: "urp", Subject: "Orari dello sportello anagrafe",
		Turns: []string{
			"Che orari ha l'anagrafe? Si può andare senza appuntamento?",
			"Buongiorno {nome}, lo sportello ({anagrafe}) riceve su appuntamento, che si prenota dall'agenda online. Molti servizi, come i certificati e il cambio di residenza, sono disponibili online con SPID o CIE senza andare allo sportello.",
			"Ok, provo online. Grazie",
		},
	},
}

// nudges are what a citizen writes when nobody has answered yet.
var nudges = []string{
	"Buongiorno, ci sono novità?",
	"Scusate, qualcuno può rispondermi?",
	"Vi riscrivo perché non ho ancora ricevuto risposta.",
}

// streets are street names found in every demo Comune.
var streets = []string{
	"via Garibaldi", "via Mazzini", "via Roma", "via Manzoni", "viale Italia", "via Dante", "via Cavour",
	"via Matteotti", "via Verdi", "corso Italia", "via Volta", "via Gramsci",
}
