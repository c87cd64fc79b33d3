package xdp

import (
	"testing"

	"github.com/dataplane-go/dataplane/maglev"
)

// TestOptions_ValidateNoTable: checking Options does not build a Maglev
// table (it used to build one with no backends only to check the size: 20
// MB of entries at MaxSize, on every Load), and still refuses a size New
// refuses.
func TestOptions_ValidateNoTable(t *testing.T) {
	o := Options{Table: maglev.Params{Size: maglev.MaxSize}}
	if n := testing.AllocsPerRun(5, func() {
		if err := o.Validate(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Options.Validate allocates %v times, want 0", n)
	}
	o.Table.Size = 65536
	if err := o.Validate(); err == nil {
		t.Error("Options.Validate accepted table size 65536 (not prime)")
	}
}
