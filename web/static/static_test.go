package static_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/web/static"
)

const (
	biCSS    = "vendor/bootstrap-italia/css/bootstrap-italia.min.css"
	biJS     = "vendor/bootstrap-italia/js/bootstrap-italia.bundle.min.js"
	biSprite = "vendor/bootstrap-italia/svg/sprites.svg"
	appCSS   = "app/dialogo.css"
)

// requireVendor stops a test that needs Bootstrap Italia when vendor/ was not
// built, saying how to build it.
func requireVendor(t *testing.T) {
	t.Helper()
	if static.BootstrapItaliaVersion() == "" {
		t.Fatal("web/static/vendor is empty: run `make assets` (scripts/build-assets.sh) first")
	}
}

func get(t *testing.T, url string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	static.Handler().ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

func TestHashedURLServesTheFileForEver(t *testing.T) {
	requireVendor(t)
	for _, p := range []string{appCSS, biCSS} {
		t.Run(p, func(t *testing.T) {
			url := static.URL(p)
			require.Regexp(t, `^/static/[0-9a-f]{16}/`+regexp.QuoteMeta(p)+`$`, url)

			resp := get(t, url)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, "public, max-age=31536000, immutable", resp.Header.Get("Cache-Control"))
			require.NotEmpty(t, resp.Header.Get("ETag"))
			want, err := os.ReadFile(p)
			require.NoError(t, err)
			require.Equal(t, want, readBody(t, resp))
		})
	}
}

func TestContentTypes(t *testing.T) {
	requireVendor(t)
	tests := []struct {
		path, want string
	}{
		{appCSS, "text/css; charset=utf-8"},
		{biCSS, "text/css; charset=utf-8"},
		{biJS, "text/javascript; charset=utf-8"},
		{biSprite, "image/svg+xml"},
		{"vendor/bootstrap-italia/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-regular.woff2", "font/woff2"},
		{"vendor/bootstrap-italia/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-regular.woff", "font/woff"},
		{"vendor/bootstrap-italia/package.json", "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp := get(t, static.URL(tt.path))
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, tt.want, resp.Header.Get("Content-Type"))
			require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		})
	}
}

func TestGzip(t *testing.T) {
	requireVendor(t)
	t.Run("text is compressed for a client that accepts it", func(t *testing.T) {
		plain := readBody(t, get(t, static.URL(biJS)))
		resp := get(t, static.URL(biJS), "Accept-Encoding", "br, gzip, deflate")
		require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
		require.Equal(t, "Accept-Encoding", resp.Header.Get("Vary"))
		require.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))
		zipped := readBody(t, resp)
		require.Less(t, len(zipped), len(plain)/2)
		zr, err := gzip.NewReader(bytes.NewReader(zipped))
		require.NoError(t, err)
		unzipped, err := io.ReadAll(zr)
		require.NoError(t, err)
		require.Equal(t, plain, unzipped)
	})
	t.Run("not for a client that does not", func(t *testing.T) {
		for _, accept := range []string{"", "identity", "gzip;q=0", "br"} {
			resp := get(t, static.URL(biCSS), "Accept-Encoding", accept)
			require.Empty(t, resp.Header.Get("Content-Encoding"), "Accept-Encoding: %q", accept)
			require.Equal(t, "Accept-Encoding", resp.Header.Get("Vary"))
		}
	})
	t.Run("not for a format compressed already", func(t *testing.T) {
		resp := get(t, static.URL("vendor/bootstrap-italia/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-regular.woff2"),
			"Accept-Encoding", "gzip")
		require.Empty(t, resp.Header.Get("Content-Encoding"))
		require.Empty(t, resp.Header.Get("Vary"))
	})
	t.Run("the two encodings have different ETags", func(t *testing.T) {
		plain := get(t, static.URL(biCSS)).Header.Get("ETag")
		zipped := get(t, static.URL(biCSS), "Accept-Encoding", "gzip").Header.Get("ETag")
		require.NotEqual(t, plain, zipped)
	})
}

func TestETagRevalidation(t *testing.T) {
	url := static.URL(appCSS)
	etag := get(t, url).Header.Get("ETag")
	resp := get(t, url, "If-None-Match", etag)
	require.Equal(t, http.StatusNotModified, resp.StatusCode)
	require.Empty(t, readBody(t, resp))
}

func TestStaleOrMissingHashRedirectsToTheCurrentURL(t *testing.T) {
	for name, url := range map[string]string{
		"stale hash": "/static/0123456789abcdef/" + appCSS,
		"no hash":    "/static/" + appCSS,
		"empty hash": "/static//" + appCSS,
	} {
		t.Run(name, func(t *testing.T) {
			resp := get(t, url)
			require.Equal(t, http.StatusFound, resp.StatusCode)
			require.Equal(t, static.URL(appCSS), resp.Header.Get("Location"))
			require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		})
	}
}

func TestUnknownPathsAreNotFound(t *testing.T) {
	hash := strings.Split(static.URL(appCSS), "/")[2]
	for _, url := range []string{
		"/static/" + hash + "/app/missing.css",
		// A folder, a dot file, and what lies outside are not served.
		"/static/" + hash + "/app",
		"/static/" + hash + "/vendor/.gitkeep",
		"/static/" + hash + "/../static.go",
		"/static/" + hash + "/app/../../static.go",
		"/static/",
		"/elsewhere/" + hash + "/" + appCSS,
	} {
		resp := get(t, url)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, url)
	}
}

func TestOnlyGetAndHead(t *testing.T) {
	url := static.URL(appCSS)

	req := httptest.NewRequest(http.MethodHead, url, nil)
	rec := httptest.NewRecorder()
	static.Handler().ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Empty(t, rec.Body.Bytes())

	req = httptest.NewRequest(http.MethodPost, url, nil)
	rec = httptest.NewRecorder()
	static.Handler().ServeHTTP(rec, req)
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	require.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
}

// Bootstrap Italia's font loader asks for <FontsURL>/<family>/<file>: every
// woff2 file it names must be served there (the browsers of today take the
// woff2 and never ask for the others).
func TestEveryFontTheLoaderAsksForIsServed(t *testing.T) {
	requireVendor(t)
	bundle, err := os.ReadFile(biJS)
	require.NoError(t, err)
	fonts := regexp.MustCompile(`\$\{\w+\}(/[\w-]+/[\w.-]+\.woff2?)'`).FindAllSubmatch(bundle, -1)
	require.NotEmpty(t, fonts, "no font URL found in %s: has the font loader changed?", biJS)
	base := static.FontsURL()
	require.Regexp(t, `^/static/[0-9a-f]{16}/vendor/bootstrap-italia/fonts$`, base)
	for _, m := range fonts {
		url := base + string(m[1])
		resp := get(t, url)
		require.Equal(t, http.StatusOK, resp.StatusCode, url)
		require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "font/"), url)
	}
}

func TestFolderURLServesTheFilesUnderIt(t *testing.T) {
	base := static.URL("app")
	require.NotEqual(t, static.URL(appCSS), base+"/dialogo.css")
	resp := get(t, base+"/dialogo.css")
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestBootstrapItaliaVersion(t *testing.T) {
	requireVendor(t)
	require.Regexp(t, `^2\.\d+\.\d+$`, static.BootstrapItaliaVersion())
}

func TestURLPanicsInTestsForAMissingFile(t *testing.T) {
	require.PanicsWithValue(t,
		`static.URL: no file or folder "app/missing.css" in web/static (if it is under vendor/, run make assets)`,
		func() { static.URL("app/missing.css") })
}
