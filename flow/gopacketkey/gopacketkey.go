// Package gopacketkey derives a [flow.Key] from a packet decoded by
// gopacket, for tests and tools that compare [flow.Parse] with gopacket or
// already hold gopacket packets.
//
// It lives outside package flow because gopacket's layers package has a
// costly init (about 5 ms and 7 MB of decoding tables): every program that
// imports flow, which is every package of this module, would pay it.
package gopacketkey

import (
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/dataplane-go/dataplane/flow"
)

// IPv6 extension header types walked by Key.
const (
	protoHopByHop = 0
	protoRouting  = 43
	protoFragment = 44
	protoAH       = 51
	protoDstOpts  = 60
)

// Key returns the flow key of a packet decoded by gopacket: the
// addresses of its first (outer) IPv4 or IPv6 layer, the protocol after
// the IPv6 extension headers (the IPv4 protocol field for IPv4), and the
// ports of the TCP or UDP layer that follows. Other protocols and later
// fragments have zero ports. For a first fragment, where gopacket stops at
// a fragment layer, the transport header is decoded from the fragment's
// payload with gopacket's decoder for its protocol.
//
// ok is false for a nil packet (what a receive from a closed
// gopacket.PacketSource channel gives), when the packet has no IPv4 or
// IPv6 layer, or when gopacket failed to decode the headers the key
// needs: the IP header, an IPv6 extension header on the way, or the TCP,
// UDP, ICMP or ICMPv6 header.
// gopacket adds some layers even when decoding them failed, so those are
// decoded again from the same bytes to learn whether they were valid.
//
// Key follows gopacket's view of the packet, not the rules of
// [flow.Parse]: it finds IP behind encapsulations Parse does not walk
// (LLC/SNAP, MPLS, PPPoE), knows no tag or extension header limit, and
// inherits gopacket's checks (IPv4 and TCP options, IPv6 routing types,
// ...). The differential test of package flow (flow/gopacket_test.go)
// lists every such difference. It allocates; it is meant for tests and
// tools, not for hot paths.
func Key(p gopacket.Packet) (flow.Key, bool) {
	if p == nil {
		return flow.Key{}, false
	}
	ls := p.Layers()
	for i, l := range ls {
		in := p.Data()
		if i > 0 {
			in = ls[i-1].LayerPayload() // what gopacket decoded layer i from
		}
		switch ip := l.(type) {
		case *layers.IPv4:
			return keyFromIPv4(ip, in, ls[i+1:])
		case *layers.IPv6:
			return keyFromIPv6(ip, in, ls[i+1:])
		}
	}
	return flow.Key{}, false
}

func keyFromIPv4(ip *layers.IPv4, in []byte, rest []gopacket.Layer) (flow.Key, bool) {
	var check layers.IPv4
	if check.DecodeFromBytes(in, gopacket.NilDecodeFeedback) != nil {
		return flow.Key{}, false
	}
	src, dst := [4]byte(ip.SrcIP.To4()), [4]byte(ip.DstIP.To4())
	proto := uint8(ip.Protocol)
	if ip.FragOffset != 0 {
		return flow.KeyFrom4(src, dst, 0, 0, proto), true
	}
	if ip.Flags&layers.IPv4MoreFragments != 0 {
		rest = decodeFrom(ip.Payload, ip.Protocol)
	}
	sport, dport, ok := transport(proto, rest, ip.Payload)
	if !ok {
		return flow.Key{}, false
	}
	return flow.KeyFrom4(src, dst, sport, dport, proto), true
}

func keyFromIPv6(ip *layers.IPv6, in []byte, rest []gopacket.Layer) (flow.Key, bool) {
	var check layers.IPv6
	if check.DecodeFromBytes(in, gopacket.NilDecodeFeedback) != nil {
		return flow.Key{}, false
	}
	src, dst := [16]byte(ip.SrcIP.To16()), [16]byte(ip.DstIP.To16())
	proto := ip.NextHeader
	in = ip.Payload
	if ip.HopByHop != nil {
		// gopacket decodes a leading hop-by-hop header with the IPv6 header
		// and adds it as the next layer.
		if len(rest) == 0 {
			return flow.Key{}, false
		}
		proto = ip.HopByHop.NextHeader
		in = rest[0].LayerPayload()
		rest = rest[1:]
	}
	for isExtHeader(uint8(proto)) {
		if len(rest) == 0 {
			return flow.Key{}, false
		}
		l := rest[0]
		switch e := l.(type) {
		case *layers.IPv6HopByHop:
			var check layers.IPv6HopByHop
			if proto != layers.IPProtocolIPv6HopByHop || check.DecodeFromBytes(in, gopacket.NilDecodeFeedback) != nil {
				return flow.Key{}, false
			}
			proto = e.NextHeader
		case *layers.IPv6Destination:
			var check layers.IPv6Destination
			if proto != layers.IPProtocolIPv6Destination || check.DecodeFromBytes(in, gopacket.NilDecodeFeedback) != nil {
				return flow.Key{}, false
			}
			proto = e.NextHeader
		case *layers.IPv6Routing: // added only when it decoded
			proto = e.NextHeader
		case *layers.IPSecAH: // added only when it decoded
			proto = e.NextHeader
		case *layers.IPv6Fragment:
			if e.FragmentOffset != 0 {
				return flow.KeyFrom16(src, dst, 0, 0, uint8(e.NextHeader)), true
			}
			// gopacket stops at a fragment layer even at offset 0.
			proto = e.NextHeader
			in = e.Payload
			rest = decodeFrom(e.Payload, proto)
			continue
		default:
			return flow.Key{}, false // the extension header did not decode
		}
		in = l.LayerPayload()
		rest = rest[1:]
	}
	sport, dport, ok := transport(uint8(proto), rest, in)
	if !ok {
		return flow.Key{}, false
	}
	return flow.KeyFrom16(src, dst, sport, dport, uint8(proto)), true
}

func isExtHeader(p uint8) bool {
	switch p {
	case protoHopByHop, protoRouting, protoFragment, protoDstOpts, protoAH:
		return true
	}
	return false
}

// decodeFrom decodes data with gopacket's decoder for protocol p. Like
// gopacket, it decodes nothing from empty data.
func decodeFrom(data []byte, p layers.IPProtocol) []gopacket.Layer {
	if len(data) == 0 {
		return nil
	}
	return gopacket.NewPacket(data, p, gopacket.NoCopy).Layers()
}

// transport checks the upper-layer header gopacket decoded (rest[0], from
// the bytes in) for the protocols whose header the key needs, and returns
// the TCP or UDP ports.
func transport(proto uint8, rest []gopacket.Layer, in []byte) (sport, dport uint16, ok bool) {
	var next gopacket.Layer
	if len(rest) > 0 {
		next = rest[0]
	}
	switch proto {
	case flow.ProtoTCP:
		t, isTCP := next.(*layers.TCP)
		var check layers.TCP
		if !isTCP || check.DecodeFromBytes(in, gopacket.NilDecodeFeedback) != nil {
			return 0, 0, false
		}
		return uint16(t.SrcPort), uint16(t.DstPort), true
	case flow.ProtoUDP:
		u, isUDP := next.(*layers.UDP)
		var check layers.UDP
		if !isUDP || check.DecodeFromBytes(in, gopacket.NilDecodeFeedback) != nil {
			return 0, 0, false
		}
		return uint16(u.SrcPort), uint16(u.DstPort), true
	case flow.ProtoICMP:
		_, ok = next.(*layers.ICMPv4) // added only when it decoded
		return 0, 0, ok
	case flow.ProtoICMPv6:
		_, ok = next.(*layers.ICMPv6)
		return 0, 0, ok
	}
	return 0, 0, true
}
