package assistant

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tmc/langchaingo/llms"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/knowledge"
)

// retrieveK is how many passages are retrieved for a question: the extractive
// answer quotes one; a language model reads them all.
const retrieveK = 5

// maxQuote is the longest passage quoted in an extractive answer, in
// characters; a longer chunk is cut to its paragraphs that cover the question.
const maxQuote = 900

// candidate is a retrieved passage with how much of the question it covers.
type candidate struct {
	knowledge.Result
	coverage   float64
	similarity float64 // cosine similarity to the question, by the local embedder
	confidence float64
}

// fit is how well a passage answers the question, uncapped: it chooses the
// passage to quote among the best ranked, where the confidence, capped at 1,
// often cannot tell them apart (the page's introduction and its "Quanto
// costa" section both mention the card).
func (c candidate) fit() float64 { return 0.6*c.coverage + 1.2*c.similarity }

// coverage is the share of the question's content words (stemmed) that the
// passage, with its title and section, contains. A word matches another when
// one is a prefix of the other and the shorter has at least five letters,
// which absorbs the inflections the light stemmer leaves ("residenz",
// "residente").
func coverage(question []string, passage string) float64 {
	qs := uniq(question)
	if len(qs) == 0 {
		return 0
	}
	ps := uniq(knowledge.Terms(passage))
	found := 0
	for _, q := range qs {
		for _, p := range ps {
			if termsMatch(q, p) {
				found++
				break
			}
		}
	}
	return float64(found) / float64(len(qs))
}

func termsMatch(a, b string) bool {
	if a == b {
		return true
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	return len(a) >= 5 && strings.HasPrefix(b, a)
}

func uniq(ws []string) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// confidence of a passage as the answer, from 0 to 1: how much of the
// question it covers, and how close it is in meaning, measured with the local
// embedder whatever embedder the search used, so that the threshold chosen
// on the development set holds for every installation.
func confidence(coverage, similarity float64) float64 {
	return max(0, min(1, 0.6*coverage+1.2*similarity))
}

// unknownPenalty lowers the confidence for each word of the question, of
// unknownMinLen letters or more, that the knowledge base never uses. Shorter
// words are too often a verb or a typo; both figures, and the threshold
// DefaultMinConfidence, were chosen on the development set.
const (
	unknownPenalty = 0.1
	unknownMinLen  = 7
)

// sectionBonus favours, within a page, the section whose heading answers the
// kind of question asked.
const sectionBonus = 0.4

// A questionType pairs a kind of question with the headings of the sections
// that answer it. Italian public-service pages follow the AGID service card
// ("scheda servizio"): A chi è rivolto, Come fare, Cosa serve, Tempi e
// scadenze, Quanto costa, Contatti.
type questionType struct {
	question, section *regexp.Regexp
}

var questionTypes = []questionType{
	{patterns(` quanto cost`, ` cost[oai] `, ` tariff`, ` prezz`, ` quanto si paga `, ` quanto pago `, ` how much `, ` fee `),
		patterns(` cost`, ` tariff`, ` prezz`, ` quanto `)},
	{patterns(` cosa serve `, ` cosa servono `, ` documenti `, ` cosa (devo|bisogna) portare `, ` what do i need `, ` documents `),
		patterns(` cosa serv`, ` document`, ` requisit`)},
	{patterns(` quando `, ` entro `, ` quanto tempo `, ` tempi `, ` scadenz`, ` when `, ` how long `, ` deadline`),
		patterns(` tempi `, ` scadenz`, ` quando `, ` durata `)},
	{patterns(` chi puo `, ` chi ha diritto `, ` a chi `, ` who `), patterns(` a chi `, ` chi `, ` requisit`)},
	{patterns(` dove `, ` orari`, ` contatt`, ` telefono `, ` where `, ` hours `, ` contact`), patterns(` contatt`, ` dove `, ` orari`, ` sportell`)},
	{patterns(`^ come `, ` come (si|faccio|posso|fare|richied|presento|ottengo|chiedo|pago|prenoto)`, ` how `),
		patterns(` come `, ` procedur`)},
}

// questionKind returns the type of a question, or nil.
func questionKind(question string) *questionType {
	n := normalize(question)
	for i := range questionTypes {
		if questionTypes[i].question.MatchString(n) {
			return &questionTypes[i]
		}
	}
	return nil
}

// retrieval is what the assistant found for a question.
type retrieval struct {
	unknown    []string // words of the question the knowledge base never uses
	candidates []candidate
	best       int // index of the passage to answer from
	confidence float64
}

func (r retrieval) passages(cited func(i int) bool) []crm.RetrievedPassage {
	out := make([]crm.RetrievedPassage, len(r.candidates))
	for i, c := range r.candidates {
		out[i] = crm.RetrievedPassage{ChunkID: c.ChunkID, TenantID: c.TenantID, Score: c.Score, Source: c.SourceName,
			Title: c.Title, URL: c.URL, Cited: cited(i)}
	}
	return out
}

// retrieve searches the knowledge base (the ente's own and the shared one)
// and scores what it found. A question in English is searched with the
// Italian words of the glossary.
func (a *Assistant) retrieve(ctx context.Context, tenantID int64, lang, question string) (retrieval, error) {
	query := question
	if lang == "en" {
		query = italianQuery(question)
	}
	results, err := knowledge.Search(ctx, a.cfg.Pool, a.cfg.Embedder, tenantID, query, retrieveK)
	if err != nil {
		return retrieval{}, err
	}
	r := retrieval{best: -1}
	if len(results) == 0 {
		return r, nil
	}
	if a.cfg.SourceLink != nil {
		slugs := map[int64]string{}
		for i := range results {
			res := &results[i]
			if res.URL != "" {
				continue
			}
			slug, ok := slugs[res.TenantID]
			if !ok {
				t, err := a.cfg.Store.Tenant(ctx, res.TenantID)
				if err != nil {
					return retrieval{}, err
				}
				slug, slugs[res.TenantID] = t.Slug, t.Slug
			}
			res.URL = a.cfg.SourceLink(slug, res.SourceName)
		}
	}
	terms := knowledge.Terms(query)
	texts := make([]string, len(results))
	for i, res := range results {
		texts[i] = res.Title + "\n" + res.SectionPath + "\n" + res.Text
		r.candidates = append(r.candidates, candidate{Result: res, coverage: coverage(terms, texts[i])})
	}
	local := knowledge.LocalEmbedder{}
	qv, err := local.EmbedQuery(ctx, query)
	if err != nil {
		return retrieval{}, err
	}
	dvs, err := local.EmbedDocuments(ctx, texts)
	if err != nil {
		return retrieval{}, err
	}
	for i := range r.candidates {
		c := &r.candidates[i]
		c.similarity = cosine(qv, dvs[i])
		c.confidence = confidence(c.coverage, c.similarity)
	}
	// A question about something the base never mentions ("autobus",
	// "passaporto") is outside it, however well its other words match.
	var ws []string
	for _, w := range strings.Fields(normalize(query)) {
		if len([]rune(w)) >= unknownMinLen && !slices.Contains(ws, w) {
			ws = append(ws, w)
		}
	}
	unknown, err := knowledge.UnknownWords(ctx, a.cfg.Pool, tenantID, ws)
	if err != nil {
		return retrieval{}, err
	}
	r.unknown = unknown
	for i := range r.candidates {
		r.candidates[i].confidence = max(0, r.candidates[i].confidence-unknownPenalty*float64(len(unknown)))
	}
	// The fused ranking chooses the page; within it, the passage that fits
	// the question best, its kind of question matching the section's
	// heading ("Quanto costa?" the section "Quanto costa").
	kind := questionKind(query)
	bestFit := 0.0
	for i, c := range r.candidates {
		if c.SourceName != r.candidates[0].SourceName || c.TenantID != r.candidates[0].TenantID {
			continue
		}
		fit := c.fit()
		if kind != nil && kind.section.MatchString(normalize(c.SectionPath)) {
			fit += sectionBonus
		}
		if r.best < 0 || fit > bestFit+0.05 {
			r.best, bestFit = i, fit
		}
	}
	r.confidence = r.candidates[r.best].confidence
	return r, nil
}

func cosine(a, b []float32) float64 {
	var s float64
	for i := range min(len(a), len(b)) {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// quote returns the passage to quote: the chunk's text, or, when it is long,
// its paragraphs that cover the question best, in their order, up to maxQuote.
func quote(question []string, text string) string {
	text = strings.TrimSpace(text)
	if len([]rune(text)) <= maxQuote {
		return text
	}
	paras := strings.Split(text, "\n\n")
	type scored struct {
		i     int
		score float64
	}
	ranked := make([]scored, len(paras))
	for i, p := range paras {
		ranked[i] = scored{i, coverage(question, p)}
	}
	slices.SortStableFunc(ranked, func(a, b scored) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return a.i - b.i
	})
	keep := map[int]bool{}
	size := 0
	for _, s := range ranked {
		n := len([]rune(paras[s.i]))
		if size > 0 && size+n > maxQuote {
			continue
		}
		keep[s.i] = true
		size += n
	}
	var out []string
	for i, p := range paras {
		if keep[i] {
			out = append(out, p)
		}
	}
	q := strings.Join(out, "\n\n")
	if r := []rune(q); len(r) > maxQuote {
		q = strings.TrimSpace(string(r[:maxQuote])) + " […]"
	}
	return q
}

// quoted prefixes every line with "> " (a line the page itself quotes
// stays one level deep).
func quoted(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, ">") {
			l = "> " + l
		}
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

func sourceLabel(c candidate) string {
	label := c.Title
	if c.SectionPath != "" {
		label += " › " + c.SectionPath
	}
	return label
}

func sourceLine(c candidate) string {
	if c.URL == "" {
		return c.Title
	}
	return c.Title + " — " + c.URL
}

// extractive writes the answer without a language model: the best passage,
// quoted, with its link.
func extractive(lang, question string, r retrieval) string {
	t := texts[lang]
	best := r.candidates[r.best]
	var b strings.Builder
	fmt.Fprintf(&b, t.extractiveIntro, sourceLabel(best))
	b.WriteString("\n\n")
	if lang == "en" {
		question = italianQuery(question)
	}
	b.WriteString(quoted(quote(knowledge.Terms(question), best.Text)))
	b.WriteString("\n\n")
	b.WriteString(t.source)
	b.WriteString(sourceLine(best))
	// Another page that covers the question as well is worth a link.
	for i, c := range r.candidates {
		if i != r.best && i < 3 && c.SourceName != best.SourceName && c.coverage >= 0.6 && c.coverage >= best.coverage-0.1 {
			b.WriteString("\n")
			b.WriteString(t.seeAlso)
			b.WriteString(sourceLine(c))
			break
		}
	}
	return b.String()
}

// unknownMarker is what the model is told to write when the passages do not
// answer the question.
const unknownMarker = "NON_LO_SO"

var citationPattern = regexp.MustCompile(`\[(\d{1,2})\]`)

// prompt builds the messages for the model: the rules, the retrieved
// passages and the question — nothing else about the citizen or the
// conversation reaches the model.
func prompt(lang, ente, question string, r retrieval) []llms.MessageContent {
	var sys strings.Builder
	fmt.Fprintf(&sys, "Sei l'assistente virtuale del %s. Rispondi alla domanda del cittadino usando SOLO i passaggi numerati "+
		"forniti, che vengono dalle pagine ufficiali dell'ente. Non aggiungere procedure, scadenze, importi, orari o "+
		"requisiti che i passaggi non contengono. Cita ogni affermazione con il numero del passaggio tra parentesi "+
		"quadre, per esempio [1]. Se i passaggi non bastano a rispondere, scrivi soltanto %s. Sii breve e chiaro.", ente, unknownMarker)
	if lang == "en" {
		sys.WriteString(" The citizen wrote in English: answer in English.")
	} else {
		sys.WriteString(" Rispondi in italiano.")
	}
	var user strings.Builder
	user.WriteString("Passaggi:\n")
	for i, c := range r.candidates {
		fmt.Fprintf(&user, "[%d] %s\n%s\n\n", i+1, sourceLabel(c), strings.TrimSpace(c.Text))
	}
	user.WriteString("Domanda: ")
	user.WriteString(question)
	return []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, sys.String()),
		llms.TextParts(llms.ChatMessageTypeHuman, user.String()),
	}
}

// generated turns the model's text into the answer: the citations kept are
// those of passages that exist, each listed with its link. ok is false when
// the model said it does not know or cited nothing, so that nothing
// unsupported reaches the citizen.
func generated(lang, text string, r retrieval) (answer string, cited []bool, ok bool) {
	text = strings.TrimSpace(text)
	cited = make([]bool, len(r.candidates))
	if text == "" || strings.Contains(text, unknownMarker) {
		return "", cited, false
	}
	any := false
	text = citationPattern.ReplaceAllStringFunc(text, func(m string) string {
		n, _ := strconv.Atoi(m[1 : len(m)-1])
		if n < 1 || n > len(r.candidates) {
			return "" // a passage that does not exist is not a source
		}
		cited[n-1], any = true, true
		return m
	})
	if !any {
		return "", cited, false
	}
	var b strings.Builder
	b.WriteString(text)
	b.WriteString("\n\n")
	b.WriteString(texts[lang].sources)
	for i, c := range r.candidates {
		if cited[i] {
			fmt.Fprintf(&b, "\n[%d] %s", i+1, sourceLine(c))
		}
	}
	return b.String(), cited, true
}
