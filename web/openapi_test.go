package web

import (
	"bytes"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

// specURL is the location the document is known by to the schema compiler;
// schemas are compiled at JSON pointers into it.
const specURL = "https://dialogo.invalid/openapi.json"

var operationMethods = []string{"get", "put", "post", "delete", "patch", "head", "options"}

// spec is the OpenAPI document, ready to validate requests and responses.
type spec struct {
	doc map[string]any
	mux *http.ServeMux // the document's paths, to find a request's path template

	mu       sync.Mutex // guards compiler and compiled
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
}

var loadSpec = sync.OnceValue(func() *spec {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(openAPIDocument))
	if err != nil {
		panic(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(specURL, doc); err != nil {
		panic(err)
	}
	s := &spec{doc: doc.(map[string]any), mux: http.NewServeMux(), compiler: c, compiled: map[string]*jsonschema.Schema{}}
	for path, item := range s.obj("paths") {
		for _, m := range operationMethods {
			if _, ok := item.(map[string]any)[m]; ok {
				s.mux.HandleFunc(strings.ToUpper(m)+" "+path, func(http.ResponseWriter, *http.Request) {})
			}
		}
	}
	return s
})

// obj follows keys from the document's root through objects.
func (s *spec) obj(keys ...string) map[string]any {
	var v any = s.doc
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	m, _ := v.(map[string]any)
	return m
}

// resolve follows a local $ref, returning the target and its JSON pointer.
func (s *spec) resolve(v map[string]any, pointer string) (map[string]any, string) {
	for {
		ref, ok := v["$ref"].(string)
		if !ok {
			return v, pointer
		}
		pointer = strings.TrimPrefix(ref, "#")
		var keys []string
		for _, k := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
			keys = append(keys, strings.NewReplacer("~1", "/", "~0", "~").Replace(k))
		}
		v = s.obj(keys...)
	}
}

func pointerOf(keys ...string) string {
	var sb strings.Builder
	for _, k := range keys {
		sb.WriteString("/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(k))
	}
	return sb.String()
}

// schema compiles the schema at a JSON pointer into the document.
func (s *spec) schema(pointer string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.compiled[pointer]; ok {
		return sch, nil
	}
	sch, err := s.compiler.Compile(specURL + "#" + pointer)
	if err != nil {
		return nil, err
	}
	s.compiled[pointer] = sch
	return sch, nil
}

// operation finds the documented operation of a request.
func (s *spec) operation(req *http.Request) (op map[string]any, pointer string, ok bool) {
	_, pattern := s.mux.Handler(req)
	method, path, found := strings.Cut(pattern, " ")
	if !found {
		return nil, "", false
	}
	m := strings.ToLower(method)
	return s.obj("paths", path, m), pointerOf("paths", path, m), true
}

// validate checks a JSON body against the schema at pointer.
func (s *spec) validate(t *testing.T, pointer string, body []byte) {
	t.Helper()
	sch, err := s.schema(pointer)
	require.NoError(t, err, "compiling %s", pointer)
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	require.NoError(t, err, "the body is not JSON: %s", body)
	require.NoError(t, sch.Validate(v), "validating against %s: %s", pointer, body)
}

// checkResponse fails the test unless the response's status is documented for
// its operation and its body matches the documented schema of its media type.
func (s *spec) checkResponse(t *testing.T, req *http.Request, r *response) {
	t.Helper()
	mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type"))
	op, opPointer, ok := s.operation(req)
	if !ok {
		// Not an operation (an unknown route, a wrong method): a problem.
		require.Equal(t, "application/problem+json", mt, "%s %s", req.Method, req.URL.Path)
		s.validate(t, "/components/schemas/Problem", r.body)
		return
	}
	code := strconv.Itoa(r.status)
	responses, _ := op["responses"].(map[string]any)
	resp, found := responses[code].(map[string]any)
	respPointer := opPointer + pointerOf("responses", code)
	if !found {
		resp, found = responses["default"].(map[string]any)
		respPointer = opPointer + pointerOf("responses", "default")
	}
	require.True(t, found, "%s %s answered %d, which its operation does not document: %s", req.Method, req.URL.Path, r.status, r.body)
	resp, respPointer = s.resolve(resp, respPointer)
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		require.Empty(t, r.body, "%s %s: %d is documented without a body", req.Method, req.URL.Path, r.status)
		return
	}
	_, found = content[mt].(map[string]any)
	require.True(t, found, "%s %s answered %d with %q, which is not documented", req.Method, req.URL.Path, r.status, mt)
	if mt == "application/json" || strings.HasSuffix(mt, "+json") {
		s.validate(t, respPointer+pointerOf("content", mt, "schema"), r.body)
	}
}

// checkRequest validates a JSON request body against its operation's schema.
func (s *spec) checkRequest(t *testing.T, req *http.Request, body []byte) {
	t.Helper()
	op, opPointer, ok := s.operation(req)
	require.True(t, ok)
	_, found := op["requestBody"]
	if !found {
		return
	}
	s.validate(t, opPointer+pointerOf("requestBody", "content", "application/json", "schema"), body)
}

var pathParamRE = regexp.MustCompile(`\{([^}]+)\}`)

// TestOpenAPIDescribesEveryRoute holds the document and the route table
// together: the same methods and path templates, both ways, with the path
// parameters declared and public routes documented as such.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	s := loadSpec()
	var inTable, inDoc []string
	public := map[string]bool{}
	for _, rt := range New(Config{}).routes() {
		key := rt.method + " " + rt.path
		inTable = append(inTable, key)
		public[key] = rt.access.public
	}
	for path, item := range s.obj("paths") {
		for _, m := range operationMethods {
			if _, ok := item.(map[string]any)[m]; ok {
				inDoc = append(inDoc, strings.ToUpper(m)+" "+path)
			}
		}
	}
	sort.Strings(inTable)
	sort.Strings(inDoc)
	require.Equal(t, inTable, inDoc, "the route table and openapi.json must list the same operations")

	for _, key := range inTable {
		method, path, _ := strings.Cut(key, " ")
		op := s.obj("paths", path, strings.ToLower(method))
		pointer := pointerOf("paths", path, strings.ToLower(method))

		// Every path parameter is declared, and nothing else is declared in the path.
		var want, declared []string
		for _, m := range pathParamRE.FindAllStringSubmatch(path, -1) {
			want = append(want, m[1])
		}
		params, _ := op["parameters"].([]any)
		for i, p := range params {
			p, _ := s.resolve(p.(map[string]any), pointer+pointerOf("parameters", strconv.Itoa(i)))
			if p["in"] == "path" {
				declared = append(declared, p["name"].(string))
				require.Equal(t, true, p["required"], "%s: path parameter %s must be required", key, p["name"])
			}
		}
		sort.Strings(want)
		sort.Strings(declared)
		require.Equal(t, want, declared, "%s: path parameters", key)

		// Public routes say so; the others inherit the document's security.
		security, hasSecurity := op["security"].([]any)
		if public[key] {
			require.True(t, hasSecurity && len(security) == 0, "%s is public: document it with security: []", key)
		} else {
			require.False(t, hasSecurity, "%s needs authentication: leave it the document's security", key)
			require.Contains(t, op["responses"], "401", "%s: document 401", key)
		}

		// Every operation documents a success.
		responses, _ := op["responses"].(map[string]any)
		require.True(t, slices.ContainsFunc(mapKeys(responses), func(c string) bool { return c[0] == '2' }),
			"%s documents no success", key)
		require.NotEmpty(t, op["operationId"], key)
	}
}

func mapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// TestOpenAPISchemasCompile compiles, as JSON Schema 2020-12, every component
// schema and every request and response schema of every operation.
func TestOpenAPISchemasCompile(t *testing.T) {
	t.Parallel()
	s := loadSpec()
	require.Equal(t, "3.1.0", s.doc["openapi"])
	var pointers []string
	for name := range s.obj("components", "schemas") {
		pointers = append(pointers, pointerOf("components", "schemas", name))
	}
	for name, r := range s.obj("components", "responses") {
		for mt := range r.(map[string]any)["content"].(map[string]any) {
			pointers = append(pointers, pointerOf("components", "responses", name, "content", mt, "schema"))
		}
	}
	for path, item := range s.obj("paths") {
		for m, op := range item.(map[string]any) {
			op := op.(map[string]any)
			if rb, ok := op["requestBody"].(map[string]any); ok {
				for mt := range rb["content"].(map[string]any) {
					pointers = append(pointers, pointerOf("paths", path, m, "requestBody", "content", mt, "schema"))
				}
			}
			for code, r := range op["responses"].(map[string]any) {
				content, _ := r.(map[string]any)["content"].(map[string]any)
				for mt := range content {
					pointers = append(pointers, pointerOf("paths", path, m, "responses", code, "content", mt, "schema"))
				}
			}
		}
	}
	require.NotEmpty(t, pointers)
	for _, p := range pointers {
		_, err := s.schema(p)
		require.NoError(t, err, p)
	}
}

// TestOpenAPIServed checks that the server serves the embedded document.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.anonymous().do("GET", "/api/openapi.json", nil)
	require.Equal(t, http.StatusOK, res.status)
	require.JSONEq(t, string(openAPIDocument), res.text())
}
