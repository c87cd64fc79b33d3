package flow

import "bytes"

// Test hooks for the external test package flow_test, whose tests compare
// Parse with gopacket through flow/gopacketkey (which imports flow, so
// they cannot be internal tests). They expose the frames built with the
// unexported helpers of parse_test.go.

// TableCase is the name and frame of one table case of parse_test.go.
type TableCase struct {
	Name  string
	Frame []byte
}

// TableCases returns every table case of parse_test.go.
func TableCases() []TableCase {
	var cs []TableCase
	for _, c := range parseCases() {
		cs = append(cs, TableCase{c.name, c.frame})
	}
	return cs
}

// SeedFrames are the starting frames of FuzzParse (fuzz_test.go): every table case of
// parse_test.go (each commented there) and a few more.
func SeedFrames() [][]byte {
	var seeds [][]byte
	for _, c := range parseCases() {
		seeds = append(seeds, c.frame)
	}
	seeds = append(seeds,
		// eth 0800 | ipv4 udp | udp 5353 > 53 | 64 bytes of DNS-looking payload
		cat(eth(0x0800), ipv4(v4h{proto: 17, src: a4, dst: b4}, udp(5353, 53, bytes.Repeat([]byte{0xab}, 64)))),
		// eth 88a8 | 8100 | 86dd | ipv6 hbh | dstopts | tcp 443 > 51000 doff=8 (12 NOP option bytes)
		cat(eth(0x86dd, tag{0x88a8, 100}, dot1q(200)), ipv6(v6h{next: 0, src: a6, dst: b6}, ext(60, 0, ext(6, 0, tcp(443, 51000, 8, nil))))),
		// eth 0800 | ipv4 gre | gre 0800 | ipv4 icmp: a tunnel keyed by its outer header
		cat(eth(0x0800), ipv4(v4h{proto: 47, src: a4, dst: b4}, cat([]byte{0, 0, 8, 0}, ipv4(v4h{proto: 1, src: "192.0.2.1", dst: "192.0.2.2"}, icmp(8, nil))))),
		// 14 zero bytes: EtherType 0, an 802.3 length field
		zeros(14),
		// 60 bytes of 0xff: broadcast MACs, EtherType 0xffff
		bytes.Repeat([]byte{0xff}, 60),
	)
	return seeds
}

// BenchFrames is a synthetic mix: the common shapes of real traffic.
func BenchFrames() []struct {
	Name  string
	Frame []byte
} {
	payload := make([]byte, 512)
	return []struct {
		Name  string
		Frame []byte
	}{
		// eth 0800 | ipv4 tcp | tcp 51000 > 443 doff=8 (timestamps) | 512 bytes
		{"ipv4-tcp", cat(eth(0x0800), ipv4(v4h{flagFrag: df, proto: 6, src: a4, dst: b4}, tcp(51000, 443, 8, payload)))},
		// eth 0800 | ipv4 udp | udp 5353 > 53 | 40 bytes
		{"ipv4-udp", cat(eth(0x0800), ipv4(v4h{proto: 17, src: a4, dst: b4}, udp(5353, 53, payload[:40])))},
		// eth 86dd | ipv6 tcp | tcp 51000 > 443 | 512 bytes
		{"ipv6-tcp", cat(eth(0x86dd), ipv6(v6h{next: 6, src: a6, dst: b6}, tcp(51000, 443, 5, payload)))},
		// eth 8100 vid=10 | 0800 | ipv4 udp | udp 1 > 2
		{"vlan-ipv4-udp", cat(eth(0x0800, dot1q(10)), ipv4(v4h{proto: 17, src: a4, dst: b4}, udp(1, 2, payload[:64])))},
		// eth 86dd | ipv6 | hop-by-hop | destination options | udp 1 > 2
		{"ipv6-ext-udp", cat(eth(0x86dd), ipv6(v6h{next: 0, src: a6, dst: b6}, ext(60, 0, ext(17, 0, udp(1, 2, payload[:64])))))},
	}
}
