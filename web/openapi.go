package web

import (
	_ "embed"
	"net/http"
)

// openAPIDocument describes every /api/v1 route; openapi_test.go checks it
// against the route table and validates real responses with its schemas.
//
//go:embed openapi.json
var openAPIDocument []byte

func serveOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPIDocument)
	return nil
}
