// Package static serves Dialogo's front-end files from the binary: Bootstrap
// Italia's build, which scripts/build-assets.sh copies from npm into vendor/,
// and the project's own files in app/.
//
// Every file is served under a content-hashed URL, /static/<hash>/<path>, that
// browsers may cache for ever: a page asks URL for the address of a file and
// gets a new one whenever the file changes. Besides its own hash, a file is
// also served under the tree hash of any folder that holds it, so a folder's
// URL is a base for relative addresses that stays right as long as nothing in
// the folder changes. Bootstrap Italia needs that for its fonts: its font
// loader builds their addresses as <base>/<family>/<file>, so a page gives it
// FontsURL as the base. With static.URL as the template function "static":
//
//	<!-- in <head> -->
//	<link rel="stylesheet" href="{{static "vendor/bootstrap-italia/css/bootstrap-italia.min.css"}}">
//	<!-- at the end of <body> -->
//	<script>window.BOOTSTRAP_ITALIA_VERSION = {{.BootstrapItaliaVersion}}; window.__PUBLIC_PATH__ = {{.FontsURL}};</script>
//	<script src="{{static "vendor/bootstrap-italia/js/bootstrap-italia.bundle.min.js"}}"></script>
//	<script>bootstrap.loadFonts()</script>
//
// Bootstrap Italia's stylesheet itself refers to no other file (its url()s are
// all data: URIs), and its icons are an SVG sprite: <use href="{{static
// "vendor/bootstrap-italia/svg/sprites.svg"}}#it-close">.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Prefix is the path under which Handler serves the files; mount Handler on
// it without stripping it ("GET /static/").
const Prefix = "/static/"

// The vendor folder is built by scripts/build-assets.sh and is not committed
// but for its .gitkeep, which "all:" embeds so that the package compiles before
// the first build; files whose name starts with a dot are never served.
//
//go:embed all:vendor app
var embedded embed.FS

// hashLen is how many hex digits of a SHA-256 go into a URL: 64 bits, plenty to
// tell the versions of one file apart.
const hashLen = 16

// bootstrapItalia is the folder of Bootstrap Italia's files in vendor/.
const bootstrapItalia = "vendor/bootstrap-italia"

// catalogue is everything known about the embedded files, built once at first
// use and read-only after that but for the lazily compressed bodies.
type catalogue struct {
	files map[string]*file  // by path, e.g. "app/dialogo.css"
	dirs  map[string]string // tree hash by folder path, e.g. "vendor/bootstrap-italia/fonts"

	warned sync.Map // paths that URL was asked for and does not know, logged once
}

type file struct {
	hash        string
	contentType string
	body        []byte

	gzipOnce sync.Once
	gzipped  []byte // nil when gzip would not make the file smaller enough
}

var files = sync.OnceValue(func() *catalogue {
	c, err := load(embedded)
	if err != nil {
		// The embedded files are part of the binary: a failure here is a bug.
		panic(fmt.Sprintf("static: reading the embedded files: %v", err))
	}
	return c
})

// load hashes every file of fsys, and every folder by the files under it.
func load(fsys fs.FS) (*catalogue, error) {
	c := &catalogue{files: map[string]*file{}, dirs: map[string]string{}}
	// The tree hash of a folder covers the paths and hashes of all the files
	// under it, which WalkDir visits in lexical order.
	trees := map[string]*bytes.Buffer{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != "." {
				trees[p] = &bytes.Buffer{}
			}
			return nil
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		f := &file{hash: hashOf(body), contentType: contentType(p, body), body: body}
		c.files[p] = f
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			fmt.Fprintf(trees[dir], "%s\x00%s\n", p, f.hash)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for dir, tree := range trees {
		c.dirs[dir] = hashOf(tree.Bytes())
	}
	return c, nil
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:hashLen]
}

// URL returns the address of the file or folder at p (relative to web/static,
// e.g. "app/dialogo.css") that changes whenever its content does. For a path
// that is not embedded it panics inside a test, so that a misspelt name fails
// the page's test; elsewhere it logs the mistake once and returns the address
// without a hash, which Handler answers with 404.
func URL(p string) string {
	c := files()
	p = strings.TrimPrefix(p, "/")
	if f, ok := c.files[p]; ok {
		return Prefix + f.hash + "/" + p
	}
	if h, ok := c.dirs[p]; ok {
		return Prefix + h + "/" + p
	}
	if testing.Testing() {
		panic(fmt.Sprintf("static.URL: no file or folder %q in web/static (if it is under vendor/, run make assets)", p))
	}
	if _, seen := c.warned.LoadOrStore(p, true); !seen {
		slog.Error("static: a page asks for a file that is not embedded; is web/static/vendor built (make assets)?", "path", p)
	}
	return Prefix + p
}

// FontsURL returns the base address of Bootstrap Italia's fonts, for its font
// loader: window.__PUBLIC_PATH__, or the argument of bootstrap.loadFonts.
func FontsURL() string {
	return URL(bootstrapItalia + "/fonts")
}

// BootstrapItaliaVersion returns the version of the embedded Bootstrap Italia,
// e.g. "2.18.3", for window.BOOTSTRAP_ITALIA_VERSION, which the Designers
// Italia validator reads. It is empty when vendor/ was not built.
func BootstrapItaliaVersion() string {
	return biVersion()
}

var biVersion = sync.OnceValue(func() string {
	f, ok := files().files[bootstrapItalia+"/package.json"]
	if !ok {
		return ""
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(f.body, &pkg); err != nil {
		slog.Error("static: reading Bootstrap Italia's package.json", "err", err)
		return ""
	}
	return pkg.Version
})

// Handler serves the embedded files at Prefix.
//
// A known file under a hash that is neither its own nor that of one of its
// folders is redirected (302, not cacheable) to its current address, and so is
// a known file asked for without a hash. A hash that is not current is what a
// page rendered by an older or newer release of Dialogo asks for while a
// rolling update has both behind one balancer: the redirect gives it the file
// as it is now, which is much closer to right than a 404 (an unstyled page),
// and the immutable cache is never filled with the wrong content for a hash,
// because only the current content is ever served under it. It also gives a
// file a stable address for sites that cannot know the hash.
//
// Responses carry the file's content type, an ETag, and, for text formats when
// the client accepts it, a gzip body compressed at the first request.
func Handler() http.Handler {
	return http.HandlerFunc(files().serveHTTP)
}

func (c *catalogue) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	hash, p, _ := strings.Cut(rest, "/")
	f, ok := c.files[p]
	if !ok {
		// Perhaps a file asked for without a hash.
		if _, ok := c.files[rest]; ok {
			redirect(w, r, URL(rest))
			return
		}
		http.NotFound(w, r)
		return
	}
	if !c.current(hash, p, f) {
		redirect(w, r, URL(p))
		return
	}
	c.serveFile(w, r, f)
}

// current tells whether hash is the hash of the file at p or of a folder that
// holds it.
func (c *catalogue) current(hash, p string, f *file) bool {
	if hash == "" {
		return false
	}
	if hash == f.hash {
		return true
	}
	for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
		if hash == c.dirs[dir] {
			return true
		}
	}
	return false
}

func redirect(w http.ResponseWriter, r *http.Request, to string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, to, http.StatusFound)
}

func (c *catalogue) serveFile(w http.ResponseWriter, r *http.Request, f *file) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	body, etag := f.body, `"`+f.hash+`"`
	if compressible(f.contentType) {
		h.Add("Vary", "Accept-Encoding")
		if gz := f.gzip(); gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
			h.Set("Content-Encoding", "gzip")
			body, etag = gz, `"`+f.hash+`-gzip"`
		}
	}
	h.Set("ETag", etag)
	// ServeContent answers If-None-Match, Range and HEAD.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// gzip returns the compressed body, computing it the first time; nil when it
// would save less than a tenth.
func (f *file) gzip() []byte {
	f.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(f.body) // a bytes.Buffer does not fail
		_ = zw.Close()
		if buf.Len() < len(f.body)-len(f.body)/10 {
			f.gzipped = buf.Bytes()
		}
	})
	return f.gzipped
}

// acceptsGzip tells whether an Accept-Encoding header allows gzip: named with
// a non-zero weight, or not named and allowed by "*".
func acceptsGzip(header string) bool {
	gzipQ, starQ := -1.0, -1.0
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		q := 1.0
		for param := range strings.SplitSeq(params, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(param), "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip":
			gzipQ = q
		case "*":
			starQ = q
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}

// contentTypes fixes the types of the files served, so that they do not depend
// on the machine's /etc/mime.types.
var contentTypes = map[string]string{
	".css":         "text/css; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".html":        "text/html; charset=utf-8",
	".txt":         "text/plain; charset=utf-8",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/vnd.microsoft.icon",
	".woff2":       "font/woff2",
	".woff":        "font/woff",
	".ttf":         "font/ttf",
	".otf":         "font/otf",
	".eot":         "application/vnd.ms-fontobject",
	".pdf":         "application/pdf",
}

func contentType(p string, body []byte) string {
	ext := strings.ToLower(path.Ext(p))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return http.DetectContentType(body)
}

// compressible tells whether gzip is worth trying on a type: text formats, and
// fonts that are not compressed already (woff and woff2 are).
func compressible(contentType string) bool {
	t, _, _ := strings.Cut(contentType, ";")
	switch t {
	case "application/json", "application/manifest+json", "image/svg+xml",
		"font/ttf", "font/otf", "application/vnd.ms-fontobject", "image/vnd.microsoft.icon":
		return true
	}
	return strings.HasPrefix(t, "text/")
}
