package assistant

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/dialogo-pa/dialogo/knowledge"
)

// intent is what a citizen's message asks of the assistant.
type intent int

const (
	intentQuestion     intent = iota // a question for the knowledge base
	intentHandoff                    // they asked for a person
	intentDistress                   // they are upset or in difficulty
	intentGreeting                   // only a greeting
	intentThanks                     // only thanks
	intentPratica                    // "a che punto è la mia pratica?"
	intentAvvisi                     // "ho avvisi da pagare?"
	intentAppuntamento               // "quando è il mio appuntamento?"
)

func (i intent) personal() bool {
	return i == intentPratica || i == intentAvvisi || i == intentAppuntamento
}

// normalize folds case and accents and turns everything but letters and
// digits into single spaces, with a space at both ends, so that patterns can
// match whole words with plain spaces.
func normalize(text string) string {
	f := knowledge.Fold(text)
	var b strings.Builder
	b.Grow(len(f) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range f {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

func patterns(exprs ...string) *regexp.Regexp {
	return regexp.MustCompile(`(?:` + strings.Join(exprs, `|`) + `)`)
}

// The patterns match normalize's output: lower case, no accents, words
// between single spaces.
var (
	handoffPattern = patterns(
		` operator[ei]? `, ` operatrice `, ` (una |un )?persona (reale|vera|fisica|in carne) `, ` (essere )?uman[oa] `,
		` parlare con (qualcuno|una persona|un impiegato|un addetto|l ufficio|un responsabile) `,
		` (voglio|vorrei|posso) (parlare|scrivere) (a|con) (qualcuno|una persona) `,
		` (human|real person|agent|operator|somebody real|someone real) `,
		` (talk|speak|chat) (to|with) (someone|somebody|a person|a human|staff) `,
	)
	distressPattern = patterns(
		` urgent[ei]? `, ` urgenza `, ` emergenza `, ` disperat[oa] `, ` non ce la faccio `, ` non so piu (cosa|che) fare `,
		` sono (molto |davvero )?(arrabbiat|furios|esasperat|disperat)`, ` vergogna `, ` inaccettabile `, ` scandal`,
		` schifo `, ` minacc`, ` violenz`, ` suicid`, ` farla finita `, ` sto male `, ` aiutatemi `, ` in pericolo `,
		` help me `, ` emergency `, ` urgent `, ` desperate `, ` furious `, ` unacceptable `, ` in danger `,
	)
	// emergencyPattern: the citizen may be in danger; the answer gives 112.
	emergencyPattern = patterns(
		` suicid`, ` farla finita `, ` ammazzarmi `, ` uccidermi `, ` violenz`, ` minacc`, ` in pericolo `,
		` emergenza `, ` emergency `, ` kill myself `, ` in danger `, ` sto male `,
	)
	praticaPattern = patterns(
		` (mia|mie) (pratica|pratiche|domanda|domande|richiesta|richieste|istanza|istanze) `,
		` a che punto (e|sono|si trova) (la |le )?(mia |mie )?(pratica|pratiche|domanda|richiesta|istanza) `,
		` stato (della|delle|di) (mia |mie )?(pratica|pratiche|domanda|richiesta|istanza) `,
		` my (application|applications|case|cases|request|requests) `, ` status of my `,
	)
	avvisiPattern = patterns(
		` ho (ancora )?(degli |dei |qualche |delle )?(avvisi|avviso|pagamenti|debiti|bollette|multe) `,
		` (miei|mie) (avvisi|pagamenti|debiti|bollette|multe) `,
		` (avvisi|pagamenti) (pagopa )?(a mio nome|intestati a me|per me) `,
		` (risultano|ci sono) (degli |dei )?(avvisi|pagamenti) (pagopa )?(a mio nome|per me|da pagare) `,
		` devo ancora pagare `, ` cosa (devo|ho da) pagare `, ` sono in regola con i pagamenti `,
		` my (payments|bills|notices|fines) `, ` do i (have|owe) `, ` have i paid `, ` anything to pay `,
	)
	appuntamentoPattern = patterns(
		` (mio|miei) (appuntamento|appuntamenti) `, ` quando (e|ho) (il )?(mio )?appuntamento `,
		` ho (un |gia un )?appuntamento `, ` my (appointment|appointments|booking) `, ` when is my `,
	)
)

var (
	greetingWords = wordSet(`ciao salve buongiorno buonasera buondi buon giorno sera pomeriggio hello hi hey good morning
		afternoon evening there assistente`)
	thanksWords = wordSet(`grazie mille tante ok okay perfetto thanks thank you bene va molto gentile gentilissimo
		gentilissima ottimo chiaro capito ciao arrivederci bye`)
)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// only reports whether every word of the normalised text is in the set, and
// there are at most max of them.
func only(norm string, set map[string]bool, max int) bool {
	ws := strings.Fields(norm)
	if len(ws) == 0 || len(ws) > max {
		return false
	}
	for _, w := range ws {
		if !set[w] {
			return false
		}
	}
	return true
}

// classify tells what a message asks, and whether the citizen may be in danger.
func classify(text string) (in intent, emergency bool) {
	n := normalize(text)
	emergency = emergencyPattern.MatchString(n)
	switch {
	case emergency || distressPattern.MatchString(n) || shouting(text):
		return intentDistress, emergency
	case handoffPattern.MatchString(n):
		return intentHandoff, false
	case praticaPattern.MatchString(n):
		return intentPratica, false
	case avvisiPattern.MatchString(n):
		return intentAvvisi, false
	case appuntamentoPattern.MatchString(n):
		return intentAppuntamento, false
	case only(n, thanksWords, 6) && (strings.Contains(n, " grazie ") || strings.Contains(n, " thank")):
		return intentThanks, false
	case only(n, greetingWords, 4) || greetingOnly(n, text):
		return intentGreeting, false
	}
	return intentQuestion, false
}

// greetingOnly reports a short message that opens with a greeting and asks
// nothing ("Buongiorno, sono Lucia Bianchi").
func greetingOnly(norm, text string) bool {
	ws := strings.Fields(norm)
	if len(ws) == 0 || len(ws) > 6 || !greetingWords[ws[0]] || strings.Contains(text, "?") {
		return false
	}
	for _, w := range ws {
		if questionWords[w] {
			return false
		}
	}
	return true
}

var questionWords = wordSet(`come quanto quanta quanti quando dove cosa che chi quale quali perche posso vorrei devo
	serve servono how what when where which who why can could need want`)

// shouting reports a message written mostly in capitals, or with a string
// of exclamation marks: a sign of an upset citizen.
func shouting(text string) bool {
	if strings.Contains(text, "!!!") {
		return true
	}
	var upper, letters int
	for _, r := range text {
		if unicode.IsLetter(r) {
			letters++
			if unicode.IsUpper(r) {
				upper++
			}
		}
	}
	return letters >= 20 && upper*10 >= letters*8
}

// English function words, and Italian ones, to tell the language of a message.
var (
	englishWords = wordSet(`the a an is are was were do does did how what when where which who why can could i my me
		you your to of for in on with from have has get need want would should please hello hi thanks thank
		there this that it be will not and or id card identity residence tax school pay payment appointment`)
	italianWords = wordSet(`il lo la i gli le un una uno e di da in con su per tra fra che chi come quando dove
		perche cosa quale quali quanto mi ti si ci vi mio mia ho hai ha sono sei non piu anche del della dei delle
		al alla ai alle nel nella devo posso vorrei buongiorno ciao grazie salve carta identita residenza pagare`)
)

// language returns "en" for a message written in English, else "it".
func language(text string) string {
	var en, it int
	for _, w := range strings.Fields(normalize(text)) {
		if englishWords[w] {
			en++
		}
		if italianWords[w] {
			it++
		}
	}
	if en > it {
		return "en"
	}
	return "it"
}
