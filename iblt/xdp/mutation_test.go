//go:build linux

package xdp

import (
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/iblt"
)

// Tests written in a mutation-testing campaign: each guards a behaviour
// that a mutant of the package survived the other tests with.

// TestLostInto_ForeignExtraKey guards that a listed key that is not a
// packet key is reported when it is among the extra (downstream-only)
// keys, not only among the lost ones, and is left out of Extra.
func TestLostInto_ForeignExtraKey(t *testing.T) {
	o := Options{Cells: 300, Hashes: 3, Seed: 1}
	frames := udpFrames(0, 3)
	up, down := digests(t, o, frames, frames[:2]) // frames[2] lost
	var foreign [KeyLen]byte
	foreign[0], foreign[37] = 1, 99 // a length byte no kernel writes
	if err := down.Insert(foreign[:], 7); err != nil {
		t.Fatal(err)
	}
	info, err := flow.Parse(frames[2])
	if err != nil {
		t.Fatal(err)
	}
	var l Loss
	err = LostInto(up, down, &l)
	if err == nil || !strings.Contains(err.Error(), "a listed key is not a packet key") {
		t.Errorf("LostInto: error %v, want one saying a listed key is not a packet key", err)
	}
	if len(l.Lost) != 1 || l.Lost[0].Flow != info.Key || l.Lost[0].Bytes != uint64(len(frames[2])) {
		t.Errorf("LostInto: lost %+v, want the one packet of %v, %d bytes", l.Lost, info.Key, len(frames[2]))
	}
	if len(l.Extra) != 0 {
		t.Errorf("LostInto: extra %+v, want none (the foreign key left out)", l.Extra)
	}
	if _, _, err := Lost(up, down); err == nil || !strings.Contains(err.Error(), "a listed key is not a packet key") {
		t.Errorf("Lost: error %v, want one saying a listed key is not a packet key", err)
	}
}

// TestParseKey_RefusesPadding guards that ParseKey refuses a packet key
// with a non-zero byte between an IPv4 flow key's last byte and the
// length byte (37), where PacketKey writes zeros.
func TestParseKey_RefusesPadding(t *testing.T) {
	f := udpFrames(0, 1)[0]
	info, err := flow.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	k := PacketKey(f, info)
	if got, id, err := ParseKey(k[:]); err != nil || got != info.Key || id != PacketID(f, info) {
		t.Fatalf("ParseKey of PacketKey: %v, %#x, %v; want %v, %#x", got, id, err, info.Key, PacketID(f, info))
	}
	// An IPv4 flow key is flow.KeyLen4 bytes: bytes KeyLen4 to 36 are padding.
	for _, i := range []int{flow.KeyLen4, 36} {
		bad := k
		bad[i] = 1
		if _, _, err := ParseKey(bad[:]); err == nil || !strings.Contains(err.Error(), "non-zero padding") {
			t.Errorf("ParseKey with byte %d set: %v, want the padding error", i, err)
		}
	}
}

// TestAppendPackets_FirstBadKey guards that the listing's error names the
// first listed key that is not a packet key, not a later one, and that
// the packet keys among them are kept.
func TestAppendPackets_FirstBadKey(t *testing.T) {
	f := udpFrames(0, 1)[0]
	info, err := flow.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	good := PacketKey(f, info)
	var badLen, badRes [KeyLen]byte
	badLen[37] = 99 // a length byte no kernel writes
	badRes = good   // a packet key ...
	badRes[38] = 1  // ... with a reserved byte set
	got, err := appendPackets(nil, []iblt.Entry{{Key: badLen[:]}, {Key: good[:], Value: 60}, {Key: badRes[:]}})
	if err == nil || !strings.Contains(err.Error(), "length byte must be") || strings.Contains(err.Error(), "38..39") {
		t.Errorf("error %v, want the first bad key's (its length byte), not the last's", err)
	}
	if len(got) != 1 || got[0].Flow != info.Key || got[0].Bytes != 60 {
		t.Errorf("packets %+v, want the one packet key's", got)
	}
}
