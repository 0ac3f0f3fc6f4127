// Package i18n picks the language of a citizen- or staff-facing page (Italian
// first, English available) and looks texts up in small per-package catalogs.
package i18n

import (
	"fmt"
	"net/http"
	"strings"
)

// Languages are the supported languages, the default first.
var Languages = []string{"it", "en"}

// Default is the language used when nothing else is known.
const Default = "it"

// CookieName is the cookie that remembers an explicit choice.
const CookieName = "dialogo_lang"

// Supported reports whether lang is one of Languages.
func Supported(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Lang returns the language for a request: ?lang=, then the cookie, then the
// first supported language of Accept-Language, then Italian.
func Lang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); Supported(l) {
		return l
	}
	if c, err := r.Cookie(CookieName); err == nil && Supported(c.Value) {
		return c.Value
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.TrimSpace(strings.SplitN(part, ";", 2)[0])
		if l := strings.ToLower(strings.SplitN(tag, "-", 2)[0]); Supported(l) {
			return l
		}
	}
	return Default
}

// Remember stores an explicit ?lang= choice in a cookie, so that the next pages
// keep it.
func Remember(w http.ResponseWriter, r *http.Request, secure bool) {
	if l := r.URL.Query().Get("lang"); Supported(l) {
		http.SetCookie(w, &http.Cookie{Name: CookieName, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	}
}

// Catalog holds texts by key, then by language.
type Catalog map[string]map[string]string

// T returns the text for key in lang (Italian when missing), formatted with args
// as fmt.Sprintf does. An unknown key is returned as it is, so that it shows.
func (c Catalog) T(lang, key string, args ...any) string {
	texts, ok := c[key]
	if !ok {
		return key
	}
	s, ok := texts[lang]
	if !ok {
		s = texts[Default]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Missing lists the keys of the catalog that lack a text in some language, for
// a test to assert none.
func (c Catalog) Missing() []string {
	var out []string
	for k, texts := range c {
		for _, l := range Languages {
			if texts[l] == "" {
				out = append(out, k+"/"+l)
			}
		}
	}
	return out
}
