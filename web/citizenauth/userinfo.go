package citizenauth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// ErrEncryptedUserinfo means the provider answered userinfo with an encrypted
// JWT (JWE), as the native SPID/CIE OpenID Connect Federation providers do.
// This client reads JSON or signed JWT userinfo only: such a provider needs a
// federation client (another Provider, see the package documentation), or a
// broker in front of it.
var ErrEncryptedUserinfo = errors.New("citizenauth: the userinfo response is an encrypted JWT (JWE) of a native SPID/CIE OIDC Federation provider, which this OIDC client cannot decrypt; use a broker or a federation client")

// maxUserinfoBytes bounds the userinfo response read into memory.
const maxUserinfoBytes = 1 << 20

// refuseEncryptedUserinfo returns a copy of client whose responses from the
// userinfo endpoint are checked for JWE before go-oidc sees them: go-oidc
// would fail on one with a signature or JSON error that hides the reason.
func refuseEncryptedUserinfo(client *http.Client, userinfoEndpoint string) *http.Client {
	endpoint, err := url.Parse(userinfoEndpoint)
	if userinfoEndpoint == "" || err != nil {
		return client
	}
	next := client.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	guarded := *client
	guarded.Transport = userinfoGuard{next: next, endpoint: endpoint}
	return &guarded
}

type userinfoGuard struct {
	next     http.RoundTripper
	endpoint *url.URL
}

func (g userinfoGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := g.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK ||
		req.URL.Host != g.endpoint.Host || req.URL.EscapedPath() != g.endpoint.EscapedPath() {
		return resp, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxUserinfoBytes+1))
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read userinfo response: %w", err)
	}
	if len(body) > maxUserinfoBytes {
		return nil, fmt.Errorf("the userinfo response exceeds %d bytes", maxUserinfoBytes)
	}
	if isJWE(body) {
		return nil, ErrEncryptedUserinfo
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// isJWE reports whether body is a JWE in compact serialization: five
// base64url parts, the first a JOSE header with an "enc" member.
func isJWE(body []byte) bool {
	parts := strings.Split(strings.TrimSpace(string(body)), ".")
	if len(parts) != 5 {
		return false
	}
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return false
	}
	var h struct {
		Enc string `json:"enc"`
	}
	return json.Unmarshal(header, &h) == nil && h.Enc != ""
}
