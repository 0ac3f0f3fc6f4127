package static

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

func TestFolderHashChangesWithAnyFileUnderIt(t *testing.T) {
	tree := func(font string) *catalogue {
		c, err := load(fstest.MapFS{
			"vendor/pkg/css/pkg.css":     {Data: []byte("body{}")},
			"vendor/pkg/fonts/a/x.woff2": {Data: []byte(font)},
			"vendor/.gitkeep":            {},
		})
		require.NoError(t, err)
		return c
	}
	before, after := tree("v1"), tree("v2")

	require.NotEqual(t, before.dirs["vendor/pkg/fonts"], after.dirs["vendor/pkg/fonts"])
	require.NotEqual(t, before.dirs["vendor/pkg"], after.dirs["vendor/pkg"])
	require.Equal(t, before.dirs["vendor/pkg/css"], after.dirs["vendor/pkg/css"])
	require.Equal(t, before.files["vendor/pkg/css/pkg.css"].hash, after.files["vendor/pkg/css/pkg.css"].hash)
	require.NotContains(t, before.files, "vendor/.gitkeep")
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                      false,
		"gzip":                  true,
		"GZIP":                  true,
		"br, gzip;q=0.5":        true,
		"gzip;q=0":              false,
		"gzip; q=0.0, identity": false,
		"*":                     true,
		"deflate, br":           false,
		"x-gzip":                false,
		"*;q=0, gzip":           true,
		"gzip;q=0, *":           false,
	} {
		require.Equal(t, want, acceptsGzip(header), "Accept-Encoding: %q", header)
	}
}
