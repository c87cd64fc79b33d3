package gopacketkey_test

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/flow/gopacketkey"
)

// mustHex decodes hex with spaces between the bytes and a "//" comment
// at the end of each line.
func mustHex(s string) []byte {
	var clean strings.Builder
	for _, line := range strings.Split(s, "\n") {
		line, _, _ = strings.Cut(line, "//")
		clean.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(clean.String())
	if err != nil {
		panic(err)
	}
	return b
}

func ExampleKey() {
	// A DNS query over IPv4 in an 802.1Q-tagged Ethernet frame.
	dnsQuery := mustHex(`
		ffffffffffff 020000000001 8100 000b 0800  // eth, vlan 11, IPv4
		45 00 0024 1234 0000 40 11 0000  // ipv4 ihl=5 tot=36 id=0x1234 ttl=64 udp
		0a000001 0a000002  // 10.0.0.1 > 10.0.0.2
		14e9 0035 0010 0000  // udp 5353 > 53 len=16
		0001 0100 0000 0000  // 8 bytes of DNS header
	`)
	p := gopacket.NewPacket(dnsQuery, layers.LayerTypeEthernet, gopacket.Default)
	k, ok := gopacketkey.Key(p)
	info, _ := flow.Parse(dnsQuery)
	fmt.Println(k, ok, k == info.Key)
	// Output: 10.0.0.1:5353 > 10.0.0.2:53 udp true true
}
