package console

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/dialogo-pa/dialogo/web/static"
)

// Bootstrap Italia's fonts are loaded by a stylesheet of ours rather than by
// its loadFonts(), which injects a <style> element that the console's content
// security policy (no inline style) would block. The faces are those that
// loadFonts declares and scripts/build-assets.sh copies (woff2 and woff).

type fontFace struct {
	family, folder, file string
	weight               int
	italic               bool
}

var fontFaces = []fontFace{
	{"Titillium Web", "Titillium_Web", "titillium-web-v10-latin-ext_latin-300", 300, false},
	{"Titillium Web", "Titillium_Web", "titillium-web-v10-latin-ext_latin-300italic", 300, true},
	{"Titillium Web", "Titillium_Web", "titillium-web-v10-latin-ext_latin-regular", 400, false},
	{"Titillium Web", "Titillium_Web", "titillium-web-v10-latin-ext_latin-italic", 400, true},
	{"Titillium Web", "Titillium_Web", "titillium-web-v10-latin-ext_latin-600", 600, false},
	{"Titillium Web", "Titillium_Web", "titillium-web-v10-latin-ext_latin-600italic", 600, true},
	{"Titillium Web", "Titillium_Web", "titillium-web-v10-latin-ext_latin-700", 700, false},
	{"Titillium Web", "Titillium_Web", "titillium-web-v10-latin-ext_latin-700italic", 700, true},
	{"Lora", "Lora", "lora-v20-latin-ext_latin-regular", 400, false},
	{"Lora", "Lora", "lora-v20-latin-ext_latin-italic", 400, true},
	{"Lora", "Lora", "lora-v20-latin-ext_latin-700", 700, false},
	{"Lora", "Lora", "lora-v20-latin-ext_latin-700italic", 700, true},
	{"Roboto Mono", "Roboto_Mono", "roboto-mono-v13-latin-ext_latin-regular", 400, false},
	{"Roboto Mono", "Roboto_Mono", "roboto-mono-v13-latin-ext_latin-italic", 400, true},
	{"Roboto Mono", "Roboto_Mono", "roboto-mono-v13-latin-ext_latin-700", 700, false},
	{"Roboto Mono", "Roboto_Mono", "roboto-mono-v13-latin-ext_latin-700italic", 700, true},
}

// fontsCSS is the stylesheet, built once: its addresses carry the hash of
// the fonts folder, so it changes only with the binary.
var fontsCSS = sync.OnceValues(func() (string, string) {
	base := static.FontsURL()
	var b strings.Builder
	b.WriteString("/* Bootstrap Italia's fonts, as its loadFonts() declares them. */\n")
	for _, f := range fontFaces {
		style := "normal"
		if f.italic {
			style = "italic"
		}
		fmt.Fprintf(&b, "@font-face{font-family:'%s';font-style:%s;font-weight:%d;font-display:swap;"+
			"src:url('%s/%s/%s.woff2') format('woff2'),url('%s/%s/%s.woff') format('woff')}\n",
			f.family, style, f.weight, base, f.folder, f.file, base, f.folder, f.file)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return b.String(), hex.EncodeToString(sum[:8])
})

func fontsCSSVersion() string {
	_, v := fontsCSS()
	return v
}

// serveFontsCSS serves the stylesheet; the page asks for it with its version in
// the query, so browsers may keep it for ever.
func serveFontsCSS(w http.ResponseWriter, r *http.Request, _ *request) error {
	css, version := fontsCSS()
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	if r.URL.Query().Get("v") == version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	_, err := w.Write([]byte(css))
	return err
}
