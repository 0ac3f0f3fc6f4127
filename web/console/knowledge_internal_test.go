package console

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPublicAddrRefusesTheServersOwnNetworks(t *testing.T) {
	for addr, public := range map[string]bool{
		"93.184.216.34":      true,
		"2a00:1450:4002::64": true,
		"127.0.0.1":          false,
		"::1":                false,
		"10.1.2.3":           false,
		"172.16.0.1":         false,
		"192.168.1.10":       false,
		"169.254.169.254":    false, // cloud metadata
		"100.64.0.1":         false, // carrier-grade NAT
		"0.0.0.0":            false,
		"0.1.2.3":            false,
		"fd00::1":            false,
		"fe80::1":            false,
		"::ffff:127.0.0.1":   false,
		"::ffff:10.0.0.1":    false,
		"224.0.0.1":          false,
		"255.255.255.255":    false,
	} {
		require.Equal(t, public, publicAddr(netip.MustParseAddr(addr)), addr)
	}
}
