//go:build linux

package main

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// containsPrefix reports whether a namespace of this process (named
// prefix<pid>...) is in the list.
func containsPrefix(list, prefix string) bool {
	mine := fmt.Sprintf("%s%d", prefix, os.Getpid())
	for _, line := range strings.Split(list, "\n") {
		if strings.HasPrefix(line, mine) {
			return true
		}
	}
	return false
}

// families are the address families the tests run over.
var families = []family{{}, {six: true}}

func (f family) String() string {
	if f.six {
		return "IPv6"
	}
	return "IPv4"
}
