package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// page is the shape of every list response. Next is the cursor of the following
// page, to pass back as the list's cursor parameter, or empty on the last page.
type page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next"`
}

// newPage returns items as a page. A full page may have a next one, whose
// cursor is cursor(the last item); a short page is the last.
func newPage[T any](items []T, limit int, cursor func(T) int64) page[T] {
	if items == nil {
		items = []T{}
	}
	p := page[T]{Items: items}
	if cursor != nil && limit > 0 && len(items) >= limit {
		p.Next = strconv.FormatInt(cursor(items[len(items)-1]), 10)
	}
	return p
}

// writeJSON writes v as the JSON response. It encodes before writing, so that
// an encoding error can still become a problem.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding the response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// A failed write means the client has gone; there is nobody to tell.
	_, _ = w.Write(append(body, '\n'))
	return nil
}
