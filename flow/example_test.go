package flow_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/dataplane-go/dataplane/flow"
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

// A DNS query over IPv4 in an 802.1Q-tagged Ethernet frame.
var dnsQuery = mustHex(`
	ffffffffffff 020000000001 8100 000b 0800  // eth, vlan 11, IPv4
	45 00 0024 1234 0000 40 11 0000  // ipv4 ihl=5 tot=36 id=0x1234 ttl=64 udp
	0a000001 0a000002  // 10.0.0.1 > 10.0.0.2
	14e9 0035 0010 0000  // udp 5353 > 53 len=16
	0001 0100 0000 0000  // 8 bytes of DNS header
`)

func ExampleParse() {
	info, err := flow.Parse(dnsQuery)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(info.Key)
	fmt.Println("vlan tags:", info.VLANTags, "ip at", info.L3Offset, "udp at", info.L4Offset)
	fmt.Printf("id %#x, fragment %v\n", info.IPID, info.Fragment)
	// Output:
	// 10.0.0.1:5353 > 10.0.0.2:53 udp
	// vlan tags: 1 ip at 18 udp at 38
	// id 0x1234, fragment none
}

func ExampleParse_errors() {
	frames := [][]byte{
		dnsQuery[:30], // cut inside the IPv4 header
		mustHex(`ffffffffffff 020000000001 0806 0001 0800 0604 0001`),                               // ARP
		mustHex(`ffffffffffff 020000000001 0800 43 00 0014 0000 0000 40 06 0000 0a000001 0a000002`), // IHL 3
	}
	var counts [flow.NumOutcomes]int
	for _, f := range frames {
		_, err := flow.Parse(f)
		counts[flow.OutcomeOf(err)]++
		fmt.Println(err)
		fmt.Println("  truncated:", errors.Is(err, flow.ErrTruncated), "not IP:", errors.Is(err, flow.ErrNotIP))
	}
	fmt.Println(counts)
	// Output:
	// flow: truncated IPv4 header: need 20 bytes
	//   truncated: true not IP: false
	// flow: not IP: EtherType is not 0x0800 (IPv4) or 0x86DD (IPv6)
	//   truncated: false not IP: true
	// flow: malformed IPv4 header: IHL 3 below 5
	//   truncated: false not IP: false
	// [0 1 1 1]
}

func ExampleParseIP() {
	// A later fragment of a UDP datagram: no transport header, zero ports.
	pkt := mustHex(`
		45 00 001c 0007 00b9 40 11 0000  // ipv4 tot=28 id=7 offset=185*8 udp
		c0000201 c0000202  // 192.0.2.1 > 192.0.2.2
		0000 0000 0000 0000  // 8 bytes of the datagram's middle
	`)
	info, err := flow.ParseIP(pkt)
	fmt.Println(info.Key, info.Fragment, info.L4Offset, err)
	// Output: 192.0.2.1:0 > 192.0.2.2:0 udp later 0 <nil>
}

// A key from addresses a program already holds, such as a connection's
// endpoints: its canonical bytes are what a Bloom filter, a sketch or an
// IBLT takes, and its Hash under a structure's seed what that structure's
// AddHash takes. Bytes and Hash have pointer receivers, so call them on a
// variable: flow.MustKey(...).Bytes() does not compile.
func ExampleKeyFrom() {
	client := netip.MustParseAddrPort("192.0.2.7:41000")
	server := netip.MustParseAddrPort("[::ffff:198.51.100.1]:443") // a dual-stack socket's view of an IPv4 peer
	k, err := flow.KeyFrom(client.Addr(), server.Addr(), client.Port(), server.Port(), flow.ProtoTCP)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(k, k.Len(), k.Is4())
	fmt.Printf("% x\n", k.Bytes())
	fmt.Printf("%#x\n", k.Hash(0))
	fmt.Println(k.Reverse())
	p := k.Padded()
	fmt.Println(len(p), p[flow.PaddedLen-1])
	// Output:
	// 192.0.2.7:41000 > 198.51.100.1:443 tcp 13 true
	// c0 00 02 07 c6 33 64 01 a0 28 01 bb 06
	// 0x5174c9fc762a1a9
	// 198.51.100.1:443 > 192.0.2.7:41000 tcp
	// 40 13
}
