//go:build linux

package main

import (
	"slices"
	"strings"
	"testing"
)

// TestNonZeroCounters: the counters a failed run logs from
// /proc/net/snmp (pairs of lines, names then values, by protocol) and
// snmp6 (a name and a value a line) are the non-zero ones, named with
// their protocol in snmp's case, without the settings among them; lines
// that do not pair up are skipped.
func TestNonZeroCounters(t *testing.T) {
	snmp := `Ip: Forwarding DefaultTTL InReceives InHdrErrors
Ip: 1 64 12 0
Icmp: InMsgs InErrors InCsumErrors OutMsgs
Icmp: 9 9 9 0
IcmpMsg: OutType3
IcmpMsg: 8
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens
Tcp: 1 200 120000 -1 0
Udp: InDatagrams NoPorts
`
	want := []string{"Ip.InReceives=12", "Icmp.InMsgs=9", "Icmp.InErrors=9", "Icmp.InCsumErrors=9", "IcmpMsg.OutType3=8"}
	if got := nonZeroCounters(snmp); !slices.Equal(got, want) {
		t.Errorf("snmp: got %q, want %q", got, want)
	}
	snmp6 := "Ip6InReceives                   \t7\nIp6InHdrErrors                  \t0\nIcmp6InCsumErrors               \t13\n"
	want = []string{"Ip6InReceives=7", "Icmp6InCsumErrors=13"}
	if got := nonZeroCounters(snmp6); !slices.Equal(got, want) {
		t.Errorf("snmp6: got %q, want %q", got, want)
	}
	if got := nonZeroCounters(""); len(got) != 0 {
		t.Errorf("empty text: got %q", got)
	}
}

// FuzzNonZeroCounters: any text, however unlike /proc/net/snmp, gives no
// panic, and at most one name=value string per value field of the text.
func FuzzNonZeroCounters(f *testing.F) {
	f.Add("Ip: Forwarding InReceives\nIp: 1 12\n")
	f.Add("Icmp6InCsumErrors 13\nIp6InReceives 0\n")
	f.Add("Tcp: A B\nTcp: 1\nUdp:\n")
	f.Fuzz(func(t *testing.T, text string) {
		got := nonZeroCounters(text)
		if n := len(strings.Fields(text)); len(got) > n {
			t.Fatalf("%d counters from a text of %d fields: %q", len(got), n, got)
		}
		for _, c := range got {
			if !strings.Contains(c, "=") {
				t.Fatalf("counter %q of %q: not name=value", c, text)
			}
		}
	})
}
