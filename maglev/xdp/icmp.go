package xdp

import (
	"bytes"
	"encoding/binary"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// quotedFlow is maglev_icmp_quote. For a parsed, untagged, unfragmented
// frame holding an ICMP error (ICMP in IPv4, types 3, 11 and 12: destination
// unreachable, fragmentation needed among them, time exceeded, parameter
// problem; ICMPv6 in IPv6, types 1 to 4, packet too big among them) that
// quotes a TCP or UDP packet sent from the error's own destination, it
// returns the key of that packet's flow as the other end sends it: the
// quoted destination and port as source, the quoted source and port as
// destination. The quote starts 8 bytes into the ICMP message; its IP
// header (IPv4 with options and not a later fragment; IPv6 with TCP or UDP
// right after the fixed header) and the two ports must lie inside the
// frame and inside the outer packet's stated length.
//
// A backend replies to clients directly, from the VIP, so a router's
// error about a reply (too big for the path, above all) reaches the
// balancer, addressed to the VIP. Balanced by its own addresses it would
// land on any backend; balanced as the flow it quotes, it reaches the one
// that sent the reply and can lower its path MTU.
func quotedFlow(frame []byte, info *flow.Info) (flow.Key, bool) {
	k := &info.Key
	v6 := k.Is6()
	if v6 && k.Proto() != flow.ProtoICMPv6 || !v6 && k.Proto() != flow.ProtoICMP {
		return flow.Key{}, false
	}
	limit := len(frame)
	pull := func(off, n int) []byte {
		if off > bpfload.MaxOff || off+n > limit {
			return nil
		}
		return frame[off : off+n]
	}
	hlen := 20
	if v6 {
		hlen = 40
	}
	ip, icmp := pull(14, hlen), pull(int(info.L4Offset), 1)
	if ip == nil || icmp == nil {
		return flow.Key{}, false
	}
	if t := icmp[0]; v6 && (t < 1 || t > 4) || !v6 && t != 3 && t != 11 && t != 12 {
		return flow.Key{}, false
	}
	if v6 {
		if plen := int(binary.BigEndian.Uint16(ip[4:])); plen != 0 {
			limit = min(limit, 14+40+plen)
		}
	} else {
		limit = min(limit, 14+int(binary.BigEndian.Uint16(ip[2:])))
	}
	off := int(info.L4Offset) + 8
	dst := k.Bytes()[4:8] // the error's destination, from the key
	if v6 {
		dst = k.Bytes()[16:32]
	}
	if v6 {
		h := pull(off, 40+4)
		if h == nil || h[0]>>4 != 6 || h[6] != flow.ProtoTCP && h[6] != flow.ProtoUDP || !bytes.Equal(h[8:24], dst) {
			return flow.Key{}, false
		}
		return flow.KeyFrom16([16]byte(h[24:40]), [16]byte(h[8:24]),
			binary.BigEndian.Uint16(h[42:]), binary.BigEndian.Uint16(h[40:]), h[6]), true
	}
	h := pull(off, 20)
	if h == nil || h[0]>>4 != 4 {
		return flow.Key{}, false
	}
	ihl := int(h[0]&0x0f) * 4
	if ihl < 20 || binary.BigEndian.Uint16(h[6:])&0x1fff != 0 || h[9] != flow.ProtoTCP && h[9] != flow.ProtoUDP {
		return flow.Key{}, false
	}
	ports := pull(off+ihl, 4)
	if ports == nil || !bytes.Equal(h[12:16], dst) {
		return flow.Key{}, false
	}
	return flow.KeyFrom4([4]byte(h[16:20]), [4]byte(h[12:16]),
		binary.BigEndian.Uint16(ports[2:]), binary.BigEndian.Uint16(ports[0:]), h[9]), true
}
