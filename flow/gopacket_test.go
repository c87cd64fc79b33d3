package flow_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/flow/gopacketkey"
	"github.com/dataplane-go/dataplane/internal/traffic"
)

// Differential testing of Parse against gopacket (through gopacketkey.Key).
// These are external tests (package flow_test) because gopacketkey imports
// flow; the table frames and fuzz seeds come from export_test.go.
//
// The two agree when both reject a frame, or both accept it with the same
// key. Where they disagree on purpose, explain names the category; each is
// a precise condition on the frame, so an unexplained mismatch fails:
//
//   - l2-encap:<layer>: gopacket finds IP behind an encapsulation Parse
//     does not walk (LLC/SNAP after an 802.3 length field, MPLS, PPPoE,
//     ERSPAN carrying a whole Ethernet frame); Parse says ErrNotIP, as
//     the kernel does.
//   - tpid-0x9100: gopacket has no decoder for the pre-standard 0x9100 tag
//     and never reaches IP; Parse skips the tag like 802.1Q.
//   - vlan-tags-over-8, ipv6-ext-headers-over-8: gopacket has no limits;
//     Parse (like the kernel, which needs bounded loops) rejects a ninth.
//   - ip-version-vs-ethertype: gopacket does not check the version field
//     against the EtherType; Parse calls it malformed.
//   - ipv4-total-length-0: gopacket takes a zero total length as "the rest
//     of the frame" (TSO captures); Parse calls it malformed.
//   - ipv4-options, ipv6-hop-by-hop-options, ipv6-dstopts-options,
//     ipv6-routing-type, ipv6-ah-short: gopacket parses IPv4 options, IPv6
//     option TLVs, knows only routing type 0 and wants 12-byte AH headers,
//     and rejects the packet when they are bad; Parse only skips them by
//     their length.
//   - tcp-header-options: gopacket needs the whole TCP header (data offset
//     included) and valid options; Parse needs the fixed 20 bytes.
//   - udp-length-below-8: gopacket rejects a UDP length field of 1 to 7;
//     Parse does not read it.
//   - ipv6-payload-length-0: gopacket accepts a zero payload length only
//     with a jumbogram option; Parse reads it as "to the end of the frame".
//   - ipv6-jumbo-option: gopacket's IPv6 decoder checks a jumbo payload
//     option in a leading hop-by-hop header (4 bytes of data, a length
//     above 65535, a zero payload length beside it); Parse skips options.
//   - ipv6-length-after-hop-by-hop: gopacket measures the payload length
//     from the end of a hop-by-hop header instead of the end of the fixed
//     header, so it accepts headers up to the hop-by-hop header's size
//     past the packet's end; Parse says truncated.

// verdict is the result of running both parsers on one packet.
type verdict struct {
	info  flow.Info
	err   error
	gkey  flow.Key
	gok   bool
	gpkt  gopacket.Packet
	frame []byte // the Ethernet frame, or the IP packet when raw
	raw   bool
}

func (v *verdict) agree() bool {
	if (v.err == nil) != v.gok {
		return false
	}
	return v.err != nil || v.info.Key == v.gkey
}

func (v *verdict) String() string {
	ours := "ok " + v.info.Key.String()
	if v.err != nil {
		ours = v.err.Error()
	}
	theirs := "rejects"
	if v.gok {
		theirs = "ok " + v.gkey.String()
	}
	return fmt.Sprintf("Parse: %s; gopacket: %s; layers %v; frame %x", ours, theirs, layerNames(v.gpkt), v.frame)
}

func layerNames(p gopacket.Packet) []string {
	var s []string
	for _, l := range p.Layers() {
		s = append(s, l.LayerType().String())
	}
	return s
}

// compare runs Parse (ParseIP when raw) and gopacket on one packet.
func compare(frame []byte, raw bool) *verdict {
	v := &verdict{frame: frame, raw: raw}
	var first gopacket.Decoder = layers.LayerTypeEthernet
	if raw {
		v.info, v.err = flow.ParseIP(frame)
		first = layers.LinkTypeRaw // IPv4 or IPv6 by the version nibble
	} else {
		v.info, v.err = flow.Parse(frame)
	}
	v.gpkt = gopacket.NewPacket(frame, first, gopacket.DecodeOptions{NoCopy: true})
	v.gkey, v.gok = gopacketkey.Key(v.gpkt)
	return v
}

// explain returns the category of a disagreement, or "" when no known
// difference explains it.
func explain(v *verdict) string {
	f := v.frame
	l3 := 0
	tpid9100 := false
	if !v.raw {
		if len(f) < 14 {
			return ""
		}
		et := binary.BigEndian.Uint16(f[12:14])
		l3 = 14
		for (et == 0x8100 || et == 0x88a8 || et == 0x9100) && len(f) >= l3+4 {
			tpid9100 = tpid9100 || et == 0x9100
			et = binary.BigEndian.Uint16(f[l3+2:])
			l3 += 4
		}
	}
	switch {
	case flow.OutcomeOf(v.err) == flow.OutcomeNotIP && v.gok:
		return encapBeforeIP(v.gpkt)
	case isMalformed(v.err, errTooManyVLANs) && v.gok:
		return "vlan-tags-over-8"
	case isMalformed(v.err, errTooManyExt) && v.gok:
		return "ipv6-ext-headers-over-8"
	case v.err == nil && !v.gok && tpid9100 && v.gpkt.NetworkLayer() == nil:
		return "tpid-0x9100"
	case v.gok && isVersionVsEtherType(v.err):
		return "ip-version-vs-ethertype"
	case isMalformed(v.err, errIPv4TotalLen) && v.gok && len(f) >= l3+4 && binary.BigEndian.Uint16(f[l3+2:]) == 0:
		return "ipv4-total-length-0"
	}
	if v.err == nil && !v.gok {
		if f[l3]>>4 == 4 {
			if f[l3]&0x0f > 5 {
				var ip layers.IPv4
				if ip.DecodeFromBytes(f[l3:], gopacket.NilDecodeFeedback) != nil {
					return "ipv4-options"
				}
			}
		} else {
			if binary.BigEndian.Uint16(f[l3+4:]) == 0 {
				return "ipv6-payload-length-0"
			}
			if badJumboOption(f, l3) {
				return "ipv6-jumbo-option"
			}
			if c := extHeaderGopacketRejects(f, l3); c != "" {
				return c
			}
		}
		end := gopacketEnd(f, l3)
		l4 := int(v.info.L4Offset)
		switch v.info.Key.Proto() {
		case flow.ProtoTCP:
			var t layers.TCP
			if l4 != 0 && t.DecodeFromBytes(f[l4:end], gopacket.NilDecodeFeedback) != nil {
				return "tcp-header-options"
			}
		case flow.ProtoUDP:
			if n := binary.BigEndian.Uint16(f[l4+4:]); l4 != 0 && n > 0 && n < 8 {
				return "udp-length-below-8"
			}
		}
	}
	if flow.OutcomeOf(v.err) == flow.OutcomeTruncated && v.gok && v.info == (flow.Info{}) {
		// IPv6 with a leading hop-by-hop header, whose payload length
		// ends inside the frame.
		if len(f) >= l3+40 && f[l3]>>4 == 6 && f[l3+6] == protoHopByHop {
			if plen := int(binary.BigEndian.Uint16(f[l3+4:])); plen != 0 && l3+40+plen < len(f) {
				return "ipv6-length-after-hop-by-hop"
			}
		}
	}
	return ""
}

// The specific errors of Parse that explain tells apart, by their text
// (parse.go keeps its error values unexported). A changed message makes
// explain return "" and the differential tests fail, never pass silently.
const (
	errTooManyVLANs = "flow: malformed frame: more than 8 VLAN tags"
	errTooManyExt   = "flow: malformed IPv6 header: more than 8 extension headers"
	errIPv4TotalLen = "flow: malformed IPv4 header: total length below the header length IHL*4"
)

// isMalformed reports whether err is the ErrMalformed error with text msg.
func isMalformed(err error, msg string) bool {
	return errors.Is(err, flow.ErrMalformed) && err.Error() == msg
}

// isVersionVsEtherType reports whether err says the IP version field does
// not match the EtherType ("IPv4 header: version 6, want 4" and the like).
func isVersionVsEtherType(err error) bool {
	if !errors.Is(err, flow.ErrMalformed) {
		return false
	}
	for _, v := range []string{"4", "6"} {
		var got int
		var want string
		n, _ := fmt.Sscanf(err.Error(), "flow: malformed IPv"+v+" header: version %d, want %s", &got, &want)
		if n == 2 && want == v && 0 <= got && got < 16 {
			return true
		}
	}
	return false
}

// IPv6 extension header types (the protocol numbers parse.go walks).
const (
	protoHopByHop = 0
	protoRouting  = 43
	protoFragment = 44
	protoAH       = 51
	protoDstOpts  = 60
)

// encapBeforeIP names the layer gopacket decoded just before the IP layer
// it keyed, when that layer is an encapsulation Parse does not walk.
func encapBeforeIP(p gopacket.Packet) string {
	ls := p.Layers()
	for i, l := range ls {
		if t := l.LayerType(); t == layers.LayerTypeIPv4 || t == layers.LayerTypeIPv6 {
			if i == 0 {
				return ""
			}
			switch prev := ls[i-1].LayerType(); prev {
			case layers.LayerTypeEthernet, layers.LayerTypeDot1Q:
				// Parse should have found this IP header, unless the
				// Ethernet header is itself encapsulated (ERSPAN carries
				// whole frames): then the encapsulation is the category.
				for _, e := range ls[:i] {
					if t := e.LayerType(); t != layers.LayerTypeEthernet && t != layers.LayerTypeDot1Q {
						return "l2-encap:" + t.String()
					}
				}
				return ""
			default:
				return "l2-encap:" + prev.String()
			}
		}
	}
	return ""
}

// extHeaderGopacketRejects walks the IPv6 extension headers at f[l3:] as
// Parse does and runs gopacket's check of each, returning the category of
// the first one gopacket rejects.
func extHeaderGopacketRejects(f []byte, l3 int) string {
	nh := f[l3+6]
	off := l3 + 40
	end := gopacketEnd(f, l3)
	for n := 0; n < flow.MaxExtHeaders && off+2 <= end; n++ {
		b := f[off:end]
		switch nh {
		case protoHopByHop:
			var h layers.IPv6HopByHop
			if h.DecodeFromBytes(b, gopacket.NilDecodeFeedback) != nil {
				return "ipv6-hop-by-hop-options"
			}
		case protoDstOpts:
			var h layers.IPv6Destination
			if h.DecodeFromBytes(b, gopacket.NilDecodeFeedback) != nil {
				return "ipv6-dstopts-options"
			}
		case protoRouting:
			size := (int(b[1]) + 1) * 8
			if len(b) >= 4 && (b[2] != 0 || (size-8)%16 != 0) {
				return "ipv6-routing-type"
			}
		case protoAH:
			if (int(b[1])+2)*4 < 12 {
				return "ipv6-ah-short"
			}
			nh, off = b[0], off+(int(b[1])+2)*4
			continue
		case protoFragment:
			if len(b) < 8 || binary.BigEndian.Uint16(b[2:])&0xfff8 != 0 {
				return ""
			}
			nh, off = b[0], off+8
			continue
		default:
			return ""
		}
		nh, off = b[0], off+(int(b[1])+1)*8
	}
	return ""
}

// badJumboOption reports whether the IPv6 packet at f[l3:] starts with a
// hop-by-hop header whose first jumbo payload option (type 0xc2) gopacket's
// IPv6 decoder rejects: option data other than 4 bytes, a jumbo length of
// at most 65535, or a non-zero payload length beside it (RFC 2675).
func badJumboOption(f []byte, l3 int) bool {
	if f[l3+6] != protoHopByHop {
		return false
	}
	var h layers.IPv6HopByHop
	if h.DecodeFromBytes(f[l3+40:], gopacket.NilDecodeFeedback) != nil {
		return false
	}
	for _, o := range h.Options {
		if o.OptionType != layers.IPv6HopByHopOptionJumbogram {
			continue
		}
		return len(o.OptionData) != 4 || binary.BigEndian.Uint32(o.OptionData) <= 65535 ||
			binary.BigEndian.Uint16(f[l3+4:]) != 0
	}
	return false
}

// gopacketEnd returns where gopacket's view of the IP packet at f[l3:]
// ends, for the headers after the IP header: the total or payload length
// or the frame's end, except after a leading IPv6 hop-by-hop header, which
// gopacket decodes from the IPv6 header's uncut payload and whose own
// payload the next layer is decoded from.
func gopacketEnd(f []byte, l3 int) int {
	if f[l3]>>4 == 4 {
		return min(len(f), l3+int(binary.BigEndian.Uint16(f[l3+2:])))
	}
	if f[l3+6] == protoHopByHop {
		return len(f)
	}
	return min(len(f), l3+40+int(binary.BigEndian.Uint16(f[l3+4:])))
}

// TestGopacketKey_MatchesParse runs every table case through gopacket:
// the adapter must agree with Parse except for the cases below, each in
// the category that explains it.
func TestGopacketKey_MatchesParse(t *testing.T) {
	wantExceptions := map[string]string{
		"mpls":                                      "l2-encap:MPLS",
		"802.3 llc/snap":                            "l2-encap:SNAP",
		"ipv4 ethertype version 6":                  "ip-version-vs-ethertype",
		"ipv6 ethertype version 4":                  "ip-version-vs-ethertype",
		"ipv4 total length 0":                       "ipv4-total-length-0",
		"tcp options cut":                           "tcp-header-options",
		"ipv6 9 extension headers":                  "ipv6-ext-headers-over-8",
		"ipv6 ninth header a fragment header":       "ipv6-ext-headers-over-8",
		"ipv6 payload length 0":                     "ipv6-payload-length-0",
		"ipv6 extension header past payload length": "ipv6-length-after-hop-by-hop",
	}
	for n := 3; n <= flow.MaxVLANTags; n++ {
		wantExceptions[fmt.Sprintf("vlan tags %02d", n)] = "tpid-0x9100" // vlanStack puts 0x9100 third
	}
	agreed := 0
	for _, c := range flow.TableCases() {
		v := compare(c.Frame, false)
		got := ""
		if !v.agree() {
			got = explain(v)
			if got == "" {
				got = "unexplained"
			}
		} else {
			agreed++
		}
		if want := wantExceptions[c.Name]; got != want {
			t.Errorf("%s: category %q, want %q\n%v", c.Name, got, want, v)
		}
	}
	if agreed < 60 {
		t.Errorf("only %d table cases agree with gopacket", agreed)
	}
}

// TestExplainErrorTexts checks that the error texts explain relies on are
// the ones Parse returns, so a reworded message cannot hide a category.
func TestExplainErrorTexts(t *testing.T) {
	seen := map[string]bool{}
	versions := 0
	for _, c := range flow.TableCases() {
		_, err := flow.Parse(c.Frame)
		if err == nil {
			continue
		}
		for _, msg := range []string{errTooManyVLANs, errTooManyExt, errIPv4TotalLen} {
			if isMalformed(err, msg) {
				seen[msg] = true
			}
		}
		if isVersionVsEtherType(err) {
			versions++
		}
	}
	for _, msg := range []string{errTooManyVLANs, errTooManyExt, errIPv4TotalLen} {
		if !seen[msg] {
			t.Errorf("no table case fails with %q", msg)
		}
	}
	if versions < 2 {
		t.Errorf("%d table cases fail with a version vs EtherType error, want at least 2", versions)
	}
	// ParseIP's "IP version %d, want 4 or 6" is not one of them.
	if _, err := flow.ParseIP([]byte{0x55}); isVersionVsEtherType(err) {
		t.Errorf("ParseIP error %q taken for a version vs EtherType error", err)
	}
}

// capturePacket is one record of a capture file, as Parse or ParseIP
// takes it.
type capturePacket struct {
	data []byte
	raw  bool // a raw IP packet (flow.ParseIP), else an Ethernet frame
	sll  bool // an Ethernet frame made from a Linux cooked capture record
}

// readCaptures reads every capture under dir (recursively; .pcap, .pcapng
// and gzipped forms) with pcapgo and calls fn for each. Raw-IP link types
// become raw packets and Linux cooked captures (SLL) Ethernet frames with
// zero MACs. The one capture pcapgo refuses on purpose
// (trunc-caplen-exceeds-snaplen) is logged and skipped; any other read
// error fails.
func readCaptures(tb testing.TB, dir string, fn func(file string, pkts []capturePacket)) {
	tb.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if !d.IsDir() && (strings.HasSuffix(name, ".pcap") || strings.HasSuffix(name, ".pcapng") || strings.HasSuffix(name, ".gz")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(files)
	if len(files) == 0 {
		tb.Fatalf("no captures under %s", dir)
	}
	for _, path := range files {
		rel, _ := filepath.Rel(dir, path)
		pkts, err := readCapture(path)
		if err != nil {
			if strings.Contains(rel, "caplen-exceeds-snaplen") {
				tb.Logf("%s: skipped, gopacket cannot read it: %v", rel, err)
				continue
			}
			tb.Fatalf("%s: %v", rel, err)
		}
		fn(rel, pkts)
	}
}

func readCapture(path string) ([]capturePacket, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(path, ".gz") {
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		defer z.Close()
		r = bufio.NewReader(z)
	}
	br := r.(*bufio.Reader)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, err
	}
	type source interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var src source
	var linkOf func(ci gopacket.CaptureInfo) layers.LinkType
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, err
		}
		src = ng
		linkOf = func(ci gopacket.CaptureInfo) layers.LinkType {
			intf, err := ng.Interface(ci.InterfaceIndex)
			if err != nil {
				return ng.LinkType()
			}
			return intf.LinkType
		}
	} else {
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, err
		}
		src = pr
		linkOf = func(gopacket.CaptureInfo) layers.LinkType { return pr.LinkType() }
	}
	var pkts []capturePacket
	for {
		data, ci, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return pkts, nil
		}
		if err != nil {
			return nil, err
		}
		p, err := convert(bytes.Clone(data), linkOf(ci))
		if err != nil {
			return nil, err
		}
		pkts = append(pkts, p)
	}
}

// convert turns one record into what Parse or ParseIP takes.
func convert(data []byte, lt layers.LinkType) (capturePacket, error) {
	switch lt {
	case layers.LinkTypeEthernet:
		return capturePacket{data: data}, nil
	case layers.LinkTypeRaw, 12, layers.LinkTypeIPv4, layers.LinkTypeIPv6: // 101, 12 (BSD raw), 228, 229
		return capturePacket{data: data, raw: true}, nil
	case layers.LinkTypeLinuxSLL: // 113: 16-byte header, protocol at bytes 14-15
		if len(data) < 16 {
			// No EtherType: a zero one reads as an 802.3 length field.
			return capturePacket{data: make([]byte, 14), sll: true}, nil
		}
		frame := make([]byte, 14+len(data)-16)
		copy(frame[12:14], data[14:16])
		copy(frame[14:], data[16:])
		return capturePacket{data: frame, sll: true}, nil
	}
	return capturePacket{}, fmt.Errorf("link type %v (%d) is not supported", lt, int(lt))
}

// TestParse_MatchesGopacketOnCaptures compares Parse with gopacket on every
// packet of every capture in DATAPLANE_TRAFFIC_DIR. Any mismatch outside
// the documented categories fails.
func TestParse_MatchesGopacketOnCaptures(t *testing.T) {
	dir := traffic.Dir(t)
	var total, accepted, raw, sll int
	outcomes := map[flow.Outcome]int{}
	categories := map[string]int{}
	unexplained := 0
	readCaptures(t, dir, func(file string, pkts []capturePacket) {
		fileCats := map[string]int{}
		for i, p := range pkts {
			v := compare(p.data, p.raw)
			total++
			if p.raw {
				raw++
			}
			if p.sll {
				sll++
			}
			outcomes[flow.OutcomeOf(v.err)]++
			if v.err == nil {
				accepted++
			}
			if v.agree() {
				continue
			}
			c := explain(v)
			if c == "" {
				unexplained++
				if unexplained <= 20 {
					t.Errorf("%s packet %d: unexplained mismatch: %v", file, i+1, v)
				}
				continue
			}
			categories[c]++
			fileCats[c]++
		}
		if len(fileCats) > 0 {
			t.Logf("%s: %d packets, exceptions %v", file, len(pkts), fileCats)
		}
	})
	t.Logf("compared %d packets (%d raw IP through ParseIP, %d from Linux SLL): Parse accepted %d; outcomes ok=%d truncated=%d not-ip=%d malformed=%d",
		total, raw, sll, accepted, outcomes[flow.OutcomeOK], outcomes[flow.OutcomeTruncated], outcomes[flow.OutcomeNotIP], outcomes[flow.OutcomeMalformed])
	names := make([]string, 0, len(categories))
	for c := range categories {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		t.Logf("exception %-32s %d packets", c, categories[c])
	}
	if unexplained > 0 {
		t.Fatalf("%d unexplained mismatches", unexplained)
	}
	if total < 100000 || raw == 0 || sll == 0 {
		t.Fatalf("only %d packets compared (%d raw, %d SLL); are the captures complete?", total, raw, sll)
	}
}
