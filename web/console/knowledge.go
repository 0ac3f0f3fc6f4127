package console

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/knowledge"
)

// The knowledge section: the sources of the assistant's knowledge base, which
// knowledge editors add by uploading a file or listing the URLs of pages, and
// remove. Every change is recorded in the ente's audit log.

// knowledgePath is the section's first page, the sources.
const knowledgePath = "/console/knowledge"

// maxUploadBytes bounds the body of an upload: the largest document
// knowledge accepts (a PDF), with room for the rest of the form.
const maxUploadBytes = knowledge.MaxPDFSize + 64<<10

// uploadMemory is how much of an uploaded file is held in memory; the rest
// waits in a temporary file, which the server removes after the request.
const uploadMemory = 1 << 20

// maxURLs is how many URLs one submission may list: they are fetched while
// the editor waits.
const maxURLs = 20

// urlsDeadline bounds the time all the URLs of a submission may take.
const urlsDeadline = 3 * time.Minute

// uploadRoute is what authorize needs to know of a route that takes a file.
type uploadRoute struct {
	limit int64  // the largest body, in bytes; 0 for a route without a file
	back  string // where a refused upload goes back to
}

// upload tells whether the route takes a file, in a multipart form. Other
// routes take ordinary forms of up to maxFormBytes.
func (rt route) upload() uploadRoute {
	if rt.pattern == "POST /console/knowledge/upload" {
		return uploadRoute{limit: maxUploadBytes, back: knowledgePath}
	}
	return uploadRoute{}
}

// parseUpload reads a multipart form, whose CSRF token is among its fields.
func parseUpload(r *http.Request, lang string, u uploadRoute) error {
	err := r.ParseMultipartForm(uploadMemory)
	if err == nil {
		return nil
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &actionError{err: fmt.Errorf("%w: the upload is over %d bytes", crm.ErrInvalid, u.limit),
			message: texts.T(lang, "upload.too_large", knowledge.MaxPDFSize>>20, knowledge.MaxTextSize>>20), back: u.back}
	}
	return fmt.Errorf("%w: the form cannot be read: %v", crm.ErrInvalid, err)
}

// errKnowledgeOff is the answer of the section when the console was built
// without the knowledge base's database.
var errKnowledgeOff = fmt.Errorf("%w: the knowledge base is not configured in this console", errUnavailable)

// sectionTab is a tab of the knowledge section.
type sectionTab struct {
	Label, URL string
	Current    bool
}

// knowledgeTabs are the section's tabs that the staff member may open.
func knowledgeTabs(rq *request, current string) []sectionTab {
	var tabs []sectionTab
	if rq.actor().Has(crm.RoleKnowledgeEditor) {
		tabs = append(tabs, sectionTab{texts.T(rq.lang, "knowledge.tab.sources"), knowledgePath, current == "sources"})
	}
	tabs = append(tabs, sectionTab{texts.T(rq.lang, "knowledge.tab.answers"), answersPath, current == "answers"})
	return tabs
}

// knowledgeView is the page of the sources.
type knowledgeView struct {
	layout
	Tabs    []sectionTab
	Sources []knowledge.SourceInfo
	Chunks  int
	// CanAdd: an embedder is configured, so documents can be added.
	CanAdd     bool
	MaxPDFMB   int
	MaxTextMB  int
	MaxURLs    int
	URLs       string      // the list as submitted, to correct and send again
	URLResults []urlResult // the outcome of each URL of the list just submitted
	URLSummary string
	// Removing is the source whose removal the editor is asked to confirm.
	Removing *knowledge.SourceInfo
}

// urlResult is the outcome of one URL of a list.
type urlResult struct {
	URL     string
	Kind    string // added, replaced, unchanged, removed or failed
	Outcome string // in words
}

// Failed tells whether the URL was not ingested.
func (u urlResult) Failed() bool { return u.Kind == "failed" }

func (c *Console) knowledgeView(w http.ResponseWriter, r *http.Request, rq *request) (knowledgeView, error) {
	if c.pool == nil {
		return knowledgeView{}, errKnowledgeOff
	}
	sources, err := knowledge.Sources(r.Context(), c.pool, rq.staff.TenantID)
	if err != nil {
		return knowledgeView{}, err
	}
	v := knowledgeView{
		layout:  c.newLayout(w, r, rq, texts.T(rq.lang, "knowledge.title"), "knowledge", "knowledge"),
		Tabs:    knowledgeTabs(rq, "sources"),
		Sources: sources,
		CanAdd:  c.embedder != nil, MaxPDFMB: knowledge.MaxPDFSize >> 20, MaxTextMB: knowledge.MaxTextSize >> 20,
		MaxURLs: maxURLs,
	}
	for _, s := range sources {
		v.Chunks += s.Chunks
	}
	return v, nil
}

// knowledgeSources is the page of the sources. With ?remove=<name> it asks to
// confirm the removal of that source.
func (c *Console) knowledgeSources(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, err := c.knowledgeView(w, r, rq)
	if err != nil {
		return err
	}
	if name := r.URL.Query().Get("remove"); name != "" {
		for i := range v.Sources {
			if v.Sources[i].Name == name {
				v.Removing = &v.Sources[i]
			}
		}
		if v.Removing == nil {
			v.Flash = &flash{Kind: flashError, Message: texts.T(rq.lang, "remove.not_found", name)}
		}
	}
	return c.render(w, http.StatusOK, rq.lang, "knowledge", "layout", v)
}

// uploadSource adds the uploaded file to the knowledge base, or replaces the
// source of the same name.
func (c *Console) uploadSource(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.pool == nil {
		return errKnowledgeOff
	}
	refuse := func(err error, key string, args ...any) error {
		return &actionError{err: err, message: texts.T(rq.lang, key, args...), back: knowledgePath}
	}
	if c.embedder == nil {
		return refuse(fmt.Errorf("%w: no embedder", crm.ErrConflict), "knowledge.no_embedder")
	}
	file, header, err := r.FormFile("file")
	if err != nil {
		return refuse(fmt.Errorf("%w: no file: %v", crm.ErrInvalid, err), "upload.missing")
	}
	defer file.Close()
	if header.Size == 0 {
		return refuse(fmt.Errorf("%w: an empty file", crm.ErrInvalid), "upload.empty")
	}
	name, err := knowledge.SanitizeFileName(header.Filename)
	if err != nil {
		return refuse(fmt.Errorf("%w: %w", crm.ErrInvalid, err), "upload.bad_name")
	}
	outcome, err := knowledge.IngestUpload(r.Context(), c.pool, c.embedder, rq.staff.TenantID, header.Filename, file)
	if err != nil {
		if key := documentError(err); key != "" {
			return refuse(fmt.Errorf("%w: %w", crm.ErrInvalid, err), "upload.refused", name, texts.T(rq.lang, key))
		}
		return err
	}
	if outcome != knowledge.Unchanged {
		if err := c.store.Audit(r.Context(), rq.actor(), crm.AuditEntry{Action: "knowledge.upload",
			Detail: map[string]any{"source": name, "outcome": outcome.String(), "bytes": header.Size}}); err != nil {
			return err
		}
	}
	return c.done(w, r, rq, knowledgePath, texts.T(rq.lang, "upload.done."+outcome.String(), name))
}

// documentError names, as a text key, why knowledge refused a document, or
// returns "" for an error that is not the document's fault.
func documentError(err error) string {
	switch {
	case errors.Is(err, knowledge.ErrTooLarge):
		return "document.too_large"
	case errors.Is(err, knowledge.ErrUnsupportedType):
		return "document.unsupported"
	case errors.Is(err, knowledge.ErrInvalidName):
		return "document.bad_name"
	case errors.Is(err, knowledge.ErrEncryptedPDF):
		return "document.encrypted_pdf"
	case errors.Is(err, knowledge.ErrNoText):
		return "document.no_text"
	case errors.Is(err, knowledge.ErrInvalidPDF):
		return "document.invalid_pdf"
	}
	return ""
}

// ingestURLs fetches the pages of a list of URLs, one a line, into the
// knowledge base, and shows the outcome of each.
func (c *Console) ingestURLs(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.pool == nil {
		return errKnowledgeOff
	}
	refuse := func(err error, key string, args ...any) error {
		return &actionError{err: err, message: texts.T(rq.lang, key, args...), back: knowledgePath}
	}
	if c.embedder == nil {
		return refuse(fmt.Errorf("%w: no embedder", crm.ErrConflict), "knowledge.no_embedder")
	}
	submitted := r.PostFormValue("urls")
	var lines []string
	for line := range strings.SplitSeq(strings.ReplaceAll(submitted, "\r\n", "\n"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	switch {
	case len(lines) == 0:
		return refuse(fmt.Errorf("%w: no URLs", crm.ErrInvalid), "urls.missing")
	case len(lines) > maxURLs:
		return refuse(fmt.Errorf("%w: %d URLs", crm.ErrInvalid, len(lines)), "urls.too_many", maxURLs, len(lines))
	}

	// Lines that are not web addresses are reported without being fetched.
	results := make([]urlResult, len(lines))
	var fetch []string
	for i, line := range lines {
		results[i].URL = line
		if u, err := url.Parse(line); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			results[i].Outcome = texts.T(rq.lang, "urls.not_a_url")
			continue
		}
		fetch = append(fetch, line)
	}
	ctx, cancel := context.WithTimeout(r.Context(), urlsDeadline)
	defer cancel()
	var rep knowledge.URLReport
	if len(fetch) > 0 {
		var err error
		rep, err = knowledge.IngestURLs(ctx, c.pool, c.embedder, rq.staff.TenantID, fetch, c.fetcher, nil)
		if err != nil && r.Context().Err() != nil {
			return err // the editor went away
		}
	}
	byURL := map[string]knowledge.URLResult{}
	for _, res := range rep.Results {
		byURL[res.URL] = res
	}
	counts := map[string]int{}
	for i := range results {
		res, fetched := byURL[results[i].URL]
		switch {
		case results[i].Outcome != "":
			results[i].Kind = "failed"
		case !fetched:
			results[i].Kind, results[i].Outcome = "failed", texts.T(rq.lang, "urls.not_reached")
		case res.Err != nil:
			results[i].Kind, results[i].Outcome = "failed", urlErrorText(rq.lang, res)
			if documentError(res.Err) == "" && res.Status == "" {
				// Not the page's fault, maybe ours (the database, the
				// embedder): the editor is told the site cannot be reached,
				// the log says why.
				c.log.WarnContext(r.Context(), "console: a page of the knowledge base was not fetched",
					"tenant", rq.staff.TenantID, "url", res.URL, "error", res.Err)
			}
		case res.Removed:
			results[i].Kind, results[i].Outcome = "removed", texts.T(rq.lang, "urls.removed", res.Status)
		default:
			results[i].Kind = res.Outcome.String()
			results[i].Outcome = texts.T(rq.lang, "urls.outcome."+results[i].Kind)
		}
		counts[results[i].Kind]++
	}
	if rep.Added+rep.Replaced+rep.Removed > 0 {
		changed := []string{}
		for _, res := range rep.Results {
			if res.Err == nil && (res.Removed || res.Outcome != knowledge.Unchanged) {
				changed = append(changed, res.URL)
			}
		}
		if err := c.store.Audit(r.Context(), rq.actor(), crm.AuditEntry{Action: "knowledge.ingest_urls",
			Detail: map[string]any{"urls": changed, "added": rep.Added, "replaced": rep.Replaced, "removed": rep.Removed,
				"unchanged": rep.Unchanged, "failed": rep.Failed}}); err != nil {
			return err
		}
	}

	v, err := c.knowledgeView(w, r, rq)
	if err != nil {
		return err
	}
	v.URLs, v.URLResults = submitted, results
	v.URLSummary = texts.T(rq.lang, "urls.summary", len(lines), counts["added"], counts["replaced"], counts["unchanged"],
		counts["removed"], counts["failed"])
	return c.render(w, http.StatusOK, rq.lang, "knowledge", "layout", v)
}

// urlErrorText says why a URL was not ingested.
func urlErrorText(lang string, res knowledge.URLResult) string {
	if key := documentError(res.Err); key != "" {
		return texts.T(lang, "urls.refused", texts.T(lang, key))
	}
	if res.Status != "" {
		return texts.T(lang, "urls.status", res.Status)
	}
	var blocked *blockedAddressError
	if errors.As(res.Err, &blocked) {
		return texts.T(lang, "urls.blocked")
	}
	if errors.Is(res.Err, context.DeadlineExceeded) {
		return texts.T(lang, "urls.timeout")
	}
	return texts.T(lang, "urls.unreachable")
}

// removeSource removes a source and its passages from the knowledge base.
func (c *Console) removeSource(w http.ResponseWriter, r *http.Request, rq *request) error {
	if c.pool == nil {
		return errKnowledgeOff
	}
	name := r.PostFormValue("name")
	err := knowledge.Remove(r.Context(), c.pool, rq.staff.TenantID, name)
	if errors.Is(err, knowledge.ErrNotFound) {
		return &actionError{err: fmt.Errorf("%w: %w", crm.ErrNotFound, err), message: texts.T(rq.lang, "remove.not_found", name),
			back: knowledgePath}
	}
	if err != nil {
		return err
	}
	if err := c.store.Audit(r.Context(), rq.actor(), crm.AuditEntry{Action: "knowledge.remove",
		Detail: map[string]any{"source": name}}); err != nil {
		return err
	}
	return c.done(w, r, rq, knowledgePath, texts.T(rq.lang, "remove.done", name))
}

// publicOnlyClient is the client that fetches the pages of a URL list when
// the console is given none: it connects to public addresses only, checked
// on the address actually dialled (after DNS, and on every redirect), so that
// a URL cannot reach the server's own network, and it uses no proxy, whose
// address would be the one checked.
func publicOnlyClient() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return &blockedAddressError{address}
		}
		if !publicAddr(ap.Addr()) {
			return &blockedAddressError{address}
		}
		return nil
	}}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 20 * time.Second,
			MaxIdleConns:          10,
			IdleConnTimeout:       30 * time.Second,
		},
	}
}

// blockedAddressError is the refusal to connect to an address that is not
// public.
type blockedAddressError struct{ address string }

func (e *blockedAddressError) Error() string {
	return "not a public address: " + e.address
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598), which
// netip does not count as private.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// publicAddr tells whether an address is on the public internet.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	// IsGlobalUnicast leaves out loopback, link-local, multicast and the
	// unspecified address; IsPrivate covers RFC 1918 and RFC 4193.
	return a.IsGlobalUnicast() && !a.IsPrivate() && !cgnat.Contains(a) && !thisNetwork.Contains(a)
}

// thisNetwork is 0.0.0.0/8, which Linux dials as the host itself.
var thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
