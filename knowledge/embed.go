package knowledge

import (
	"context"
	"hash/fnv"
	"math"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Embedder turns text into vectors. Its method set is that of langchaingo's
// embeddings.Embedder, so that langchaingo providers can be used unchanged.
// Storing and searching vectors also needs the embedder's name and dimension:
// LocalEmbedder knows its own, and NamedEmbedder gives them to any other.
type Embedder interface {
	EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error)
	EmbedQuery(ctx context.Context, text string) ([]float32, error)
}

// LocalEmbedder is an embedder that needs no model, no download and no network:
// it hashes character n-grams (3 to 5 letters, which keeps typos close to the
// right word) and lightly stemmed Italian words (which brings "richiedere" and
// "richiesta" together) into LocalDimensions buckets, and normalises the
// result. It is deterministic and safe for concurrent use. It is far weaker
// than a neural model on paraphrases, but it makes the default install work
// offline. Its vectors are stored under the name LocalName.
type LocalEmbedder struct{}

// EmbedDocuments embeds each text.
func (LocalEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out[i] = embedLocal(t)
	}
	return out, nil
}

// EmbedQuery embeds one query.
func (LocalEmbedder) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return embedLocal(text), nil
}

// Weights of the two kinds of feature: whole (stemmed) words carry meaning,
// n-grams carry robustness to spelling.
const (
	wordWeight  = 1.0
	ngramWeight = 0.35
)

func embedLocal(text string) []float32 {
	v := make([]float64, LocalDimensions)
	for _, w := range words(text) {
		if stopwords[w] {
			continue
		}
		stem := stemItalian(w)
		add(v, "w:"+stem, wordWeight)
		padded := []rune("^" + w + "$")
		for n := 3; n <= 5; n++ {
			for i := 0; i+n <= len(padded); i++ {
				add(v, string(padded[i:i+n]), ngramWeight)
			}
		}
	}
	var sum float64
	for _, x := range v {
		sum += x * x
	}
	out := make([]float32, LocalDimensions)
	if sum == 0 {
		return out
	}
	norm := math.Sqrt(sum)
	for i, x := range v {
		out[i] = float32(x / norm)
	}
	return out
}

// add hashes a feature into a bucket with a sign taken from the hash, so that
// collisions cancel out on average instead of piling up.
func add(v []float64, feature string, weight float64) {
	h := fnv.New64a()
	h.Write([]byte(feature))
	sum := h.Sum64()
	i := sum % LocalDimensions
	if sum&(1<<63) != 0 {
		weight = -weight
	}
	v[i] += weight
}

// words splits text into lower-case, accent-folded words of letters and digits.
// Apostrophes split too, so that "dell'anagrafe" gives "dell" and "anagrafe".
func words(text string) []string {
	return strings.FieldsFunc(foldAccents(strings.ToLower(text)), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

func foldAccents(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// italianSuffixes are stripped, longest first, from words long enough to keep
// a stem of at least four letters. It is a light stemmer, not Snowball: it only
// needs to bring inflections of one word together.
var italianSuffixes = []string{
	"amento", "amenti", "imento", "imenti",
	"azione", "azioni", "mente",
	"abile", "abili", "ibile", "ibili",
	"ando", "endo", "are", "ere", "ire", "ata", "ate", "ati", "ato",
	"ita", "ite", "iti", "ito", "uta", "ute", "uti", "uto",
	"ano", "ono", "ica", "ico", "ici", "iche",
	"a", "e", "i", "o",
}

func stemItalian(w string) string {
	for _, s := range italianSuffixes {
		if len(w)-len(s) >= 4 && strings.HasSuffix(w, s) {
			return w[:len(w)-len(s)]
		}
	}
	return w
}

// stopwords are Italian function words, which would otherwise make every
// sentence look like every other.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a ad al allo alla ai agli alle anche avere c che chi ci come con contro
		cui da dal dallo dalla dai dagli dalle dei degli del della delle dello di do dove e ed
		era essere gli ha hanno ho i il in io l la le lei lo loro lui ma me mi mio mia ne nei
		negli nel nella nelle nello no noi non o per perche piu puo qual quale quando quanto
		questa queste questi questo se si sia sono su sua sue sui sul sulla suo tra tu un una
		uno vi voi all dell nell sull quel quella cosa posso devo fare`) {
		m[w] = true
	}
	return m
}()
