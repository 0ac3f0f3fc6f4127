package knowledge

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Fetching limits, for a client that does not set its own.
const (
	fetchTimeout = 30 * time.Second
	maxRedirects = 5
)

// userAgent introduces Dialogo to the web servers it fetches pages from.
const userAgent = "Dialogo-knowledge/1 (+https://github.com/dialogo-pa/dialogo)"

// URLReport is what IngestURLs did: counts, and the outcome of each URL.
type URLReport struct {
	Added, Replaced, Unchanged, Removed, Failed int
	Results                                     []URLResult
}

// URLResult is the outcome of one URL of a list.
type URLResult struct {
	URL string
	// Outcome is what Ingest did with the page, when Err is nil and Removed
	// is false.
	Outcome Outcome
	// Removed is true when the URL answered 404 Not Found or 410 Gone and
	// its source was removed from the knowledge base; Status says which.
	Removed bool
	// Status is the HTTP status of the final response ("200 OK"), empty when
	// there was none.
	Status string
	// Err is why the URL was not ingested; its previous version, if any,
	// stays in the knowledge base.
	Err error
}

// IngestURLs fetches each URL of the list and ingests it as Ingest does,
// naming the source by the URL as given (spaces trimmed), which is also the
// link citizens get. The Content-Type decides the format (HTML, Markdown,
// text or PDF; a file served as application/octet-stream is recognised by
// its content or extension); a body above MaxTextSize (MaxPDFSize for a PDF)
// is refused. Only http and https URLs are fetched, one after the other.
//
// A URL that fails (a network error, a status other than 200 OK after
// redirects, an unsupported type, a damaged PDF) is reported in its
// URLResult and does not stop the others; its previous version stays. A URL
// that answers 404 or 410 is removed from the knowledge base. A URL missing
// from the list is left alone: a list is not the whole knowledge base.
//
// client may be nil. A client without a timeout or a redirect policy of its
// own gets a 30-second timeout and follows at most 5 redirects, to http and
// https URLs only. IngestURLs fetches whatever the list names, addresses on
// the server's own network included: a list that does not come from an
// administrator needs a client whose dialer refuses those.
//
// progress, when not nil, is called after each URL. The error is not nil
// only when ctx ends; the URLs not reached are then missing from the report.
func IngestURLs(ctx context.Context, pool *pgxpool.Pool, emb Embedder, tenantID int64, urls []string, client *http.Client, progress func(done, total int)) (URLReport, error) {
	var rep URLReport
	c := &http.Client{}
	if client != nil {
		copied := *client
		c = &copied
	}
	if c.Timeout == 0 {
		c.Timeout = fetchTimeout
	}
	if c.CheckRedirect == nil {
		c.CheckRedirect = checkRedirect
	}
	list := make([]string, 0, len(urls))
	seen := make(map[string]bool, len(urls))
	for _, u := range urls {
		if u = strings.TrimSpace(u); u != "" && !seen[u] {
			seen[u] = true
			list = append(list, u)
		}
	}
	for i, u := range list {
		if ctx.Err() != nil {
			break
		}
		res := ingestURL(ctx, pool, emb, tenantID, c, u)
		switch {
		case res.Err != nil:
			rep.Failed++
		case res.Removed:
			rep.Removed++
		case res.Outcome == Added:
			rep.Added++
		case res.Outcome == Replaced:
			rep.Replaced++
		case res.Outcome == Unchanged:
			rep.Unchanged++
		}
		rep.Results = append(rep.Results, res)
		if progress != nil {
			progress(i+1, len(list))
		}
	}
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("knowledge.IngestURLs(%d): %w", tenantID, err)
	}
	return rep, nil
}

// checkRedirect follows at most maxRedirects redirects, to http and https
// URLs only.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirected to a %s URL", req.URL.Scheme)
	}
	return nil
}

func ingestURL(ctx context.Context, pool *pgxpool.Pool, emb Embedder, tenantID int64, c *http.Client, rawURL string) URLResult {
	res := URLResult{URL: rawURL}
	src, status, err := fetch(ctx, c, rawURL)
	res.Status = status
	switch {
	case errors.Is(err, errGone):
		err = Remove(ctx, pool, tenantID, rawURL)
		if errors.Is(err, ErrNotFound) {
			// A URL that was never ingested is a mistake in the list.
			res.Err = fmt.Errorf("%s: %s", rawURL, status)
			return res
		}
		res.Err, res.Removed = err, err == nil
		return res
	case err != nil:
		res.Err = fmt.Errorf("%s: %w", rawURL, err)
		return res
	}
	res.Outcome, res.Err = Ingest(ctx, pool, emb, tenantID, src)
	return res
}

// errGone is fetch's error for a page that no longer exists.
var errGone = errors.New("the page no longer exists")

// fetch downloads a URL as a Source. It returns errGone for a 404 or 410.
func fetch(ctx context.Context, c *http.Client, rawURL string) (_ Source, status string, _ error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Source{}, "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return Source{}, "", fmt.Errorf("%w: only http and https URLs are fetched", ErrUnsupportedType)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return Source{}, "", err
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "text/html, application/xhtml+xml, text/markdown, text/plain, application/pdf;q=0.9, */*;q=0.1")
	resp, err := c.Do(req)
	if err != nil {
		return Source{}, "", err
	}
	defer resp.Body.Close()
	status = resp.Status
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return Source{}, status, errGone
	case resp.StatusCode != http.StatusOK:
		return Source{}, status, fmt.Errorf("the server answered %s", status)
	}
	contentType := resp.Header.Get("Content-Type")
	format, sniff, err := formatOfContentType(contentType, resp.Request.URL.Path)
	if err != nil {
		return Source{}, status, err
	}
	limit := int64(MaxPDFSize)
	if !sniff && format != PDF {
		limit = MaxTextSize
	}
	if resp.ContentLength > limit {
		return Source{}, status, fmt.Errorf("%w: %d bytes", ErrTooLarge, resp.ContentLength)
	}
	data, err := readLimited(resp.Body, limit)
	if err != nil {
		return Source{}, status, err
	}
	if sniff {
		// A file served as application/octet-stream, or with no type: its
		// content or its name tells.
		var ok bool
		if format, ok = FormatOf(resp.Request.URL.Path); strings.HasPrefix(string(data), "%PDF-") {
			format, ok = PDF, true
		}
		switch {
		case !ok:
			return Source{}, status, fmt.Errorf("%w: served as %q", ErrUnsupportedType, contentType)
		case format != PDF && len(data) > MaxTextSize:
			return Source{}, status, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxTextSize)
		}
	}
	body, err := documentBody(format, data, contentType)
	if err != nil {
		return Source{}, status, err
	}
	return Source{Name: rawURL, URL: rawURL, Format: format, Body: body}, status, nil
}

// formatOfContentType is the format of a document served with the
// Content-Type, whose URL path is urlPath. sniff is true for a generic type
// (application/octet-stream, or none), when the content must tell; a type
// that is never ingested (an image, an archive) is ErrUnsupportedType.
func formatOfContentType(contentType, urlPath string) (_ Format, sniff bool, _ error) {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", true, nil
	}
	switch mediaType {
	case "text/html", "application/xhtml+xml":
		return HTML, false, nil
	case "text/markdown", "text/x-markdown":
		return Markdown, false, nil
	case "text/plain":
		// Markdown files are often served as plain text.
		if f, ok := FormatOf(urlPath); ok && f == Markdown {
			return Markdown, false, nil
		}
		return Text, false, nil
	case "application/pdf", "application/x-pdf":
		return PDF, false, nil
	case "application/octet-stream", "binary/octet-stream":
		return "", true, nil
	}
	return "", false, fmt.Errorf("%w: served as %q", ErrUnsupportedType, mediaType)
}
