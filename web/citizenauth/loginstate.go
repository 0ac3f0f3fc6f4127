package citizenauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

const (
	// loginCookieName holds the state of a login in progress. A second Begin in
	// the same browser replaces the first, whose callback then fails.
	loginCookieName = "dialogo_citizen_login"
	// loginLifetime is how long a citizen has to log in at the provider.
	loginLifetime = 10 * time.Minute
	// maxDataLen bounds Begin's data so that the cookie stays far below the
	// 4 KB browsers accept.
	maxDataLen = 1024
	// loginStateLabel separates this MAC from anything else signed with the
	// same key (the server's DIALOGO_SECRET_KEY signs other browser state too).
	loginStateLabel = "dialogo citizenauth login state v1\x00"
)

// ErrLoginState means the callback does not belong to a login started in this
// browser in the last ten minutes: the cookie is missing (expired, blocked, or
// another browser), altered, or its state differs from the callback's.
var ErrLoginState = errors.New("citizenauth: the callback does not match a login started in this browser (missing, expired or altered login cookie, or wrong state)")

// loginState is what Begin remembers for Complete.
type loginState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Data     string `json:"d"`
	Expires  int64  `json:"e"` // Unix seconds; the cookie's Max-Age is only a hint to the browser
}

// randomToken returns an unguessable string of at least 32 upper-case letters
// and digits, as SPID and CIE require for state and nonce. Two rand.Text values
// give 52 characters of the base32 alphabet, 256 bits.
func randomToken() string {
	return rand.Text() + rand.Text()
}

// seal encodes st as base64url(JSON) "." base64url(HMAC-SHA256).
func seal(key []byte, st loginState) (string, error) {
	payload, err := json.Marshal(st)
	if err != nil {
		return "", fmt.Errorf("encode login state: %w", err)
	}
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(loginStateMAC(key, p)), nil
}

// open checks the MAC and the expiry of a sealed login state.
func open(key []byte, value string, now time.Time) (loginState, error) {
	p, sig, ok := strings.Cut(value, ".")
	if !ok {
		return loginState{}, fmt.Errorf("%w: malformed cookie", ErrLoginState)
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, loginStateMAC(key, p)) {
		return loginState{}, fmt.Errorf("%w: bad signature", ErrLoginState)
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return loginState{}, fmt.Errorf("%w: malformed cookie", ErrLoginState)
	}
	var st loginState
	if err := json.Unmarshal(payload, &st); err != nil {
		return loginState{}, fmt.Errorf("%w: malformed cookie", ErrLoginState)
	}
	if !now.Before(time.Unix(st.Expires, 0)) {
		return loginState{}, fmt.Errorf("%w: the login started more than %v ago", ErrLoginState, loginLifetime)
	}
	return st, nil
}

func loginStateMAC(key []byte, payload string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(loginStateLabel))
	mac.Write([]byte(payload))
	return mac.Sum(nil)
}

// loginCookie returns the login cookie with value; an empty value deletes it.
// It is scoped to the callback path, so the browser sends it nowhere else, and
// SameSite=Lax still sends it on the top-level redirect back from the provider.
func (o *oidcProvider) loginCookie(value string, expires time.Time) *http.Cookie {
	c := &http.Cookie{
		Name:     loginCookieName,
		Value:    value,
		Path:     o.cookiePath,
		HttpOnly: true,
		Secure:   o.secureCookies,
		SameSite: http.SameSiteLaxMode,
	}
	if value == "" {
		c.MaxAge = -1
		c.Expires = time.Unix(0, 0)
	} else {
		c.MaxAge = int(time.Until(expires).Seconds())
		c.Expires = expires
	}
	return c
}
