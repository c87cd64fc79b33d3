package capture_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/capture"
)

// ngEPBFlags encodes an enhanced packet block of interface ifid with a
// comment, then an epb_flags option (code 2) of value flags, then a
// second comment, so that the flags are found among other options.
func ngEPBFlags(bo order, ifid uint32, p capture.Packet, flags uint32) []byte {
	body := ngPacketFields(bo, bo.AppendUint32(nil, ifid), uint64(p.Time.UnixNano()), p)
	body = bo.AppendUint16(body, 1) // opt_comment, 5 bytes padded to 8
	body = bo.AppendUint16(body, 5)
	body = append(body, "first\x00\x00\x00"...)
	body = bo.AppendUint16(body, 2) // epb_flags
	body = bo.AppendUint16(body, 4)
	body = bo.AppendUint32(body, flags)
	body = bo.AppendUint16(body, 1)
	body = bo.AppendUint16(body, 4)
	body = append(body, "last"...)
	body = bo.AppendUint32(body, 0)
	return ngBlock(bo, 6, body)
}

// TestReader_PcapngEPBFlagsFCS: an enhanced packet block's epb_flags
// gives its own FCS length in bytes (bits 5 to 8, pcapng draft section
// 4.3.1), which overrides its interface's if_fcslen; 0 there means not
// known, and the interface's length holds. Other flag bits (direction,
// reception type) change nothing.
func TestReader_PcapngEPBFlagsFCS(t *testing.T) {
	recs4, want4 := fcsFrames(4)
	recs2, want2 := fcsFrames(2)
	const inbound = 1 // direction bits, set in every case
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		b := ngSHB(bo)
		b = append(b, ngIDBOpts(bo, nil)...)            // 0: no FCS said
		b = append(b, ngIDBOpts(bo, fcslen(bo, 32))...) // 1: 4-byte FCS
		var exp []capture.Packet
		for i := range recs4 {
			// Interface 0, the block says 4 bytes: taken off.
			b = append(b, ngEPBFlags(bo, 0, recs4[i], inbound|4<<5)...)
			exp = append(exp, want4[i])
			// Interface 0, the block says nothing: as stored.
			b = append(b, ngEPBFlags(bo, 0, recs4[i], inbound)...)
			exp = append(exp, recs4[i])
			// Interface 1 (4 bytes), the block says 0: the interface's 4.
			b = append(b, ngEPBFlags(bo, 1, recs4[i], inbound)...)
			exp = append(exp, want4[i])
			// Interface 1 (4 bytes), the block says 2: its own 2.
			b = append(b, ngEPBFlags(bo, 1, recs2[i], inbound|2<<5)...)
			exp = append(exp, want2[i])
		}
		got, err := readAll(t, b)
		if err != nil {
			t.Fatalf("%v: %v", bo, err)
		}
		equalPackets(t, got, exp, time.Nanosecond)
	}
}
