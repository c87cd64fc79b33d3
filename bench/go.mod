module github.com/dataplane-go/dataplane/bench

go 1.25.0

replace github.com/dataplane-go/dataplane => ../

require (
	github.com/bits-and-blooms/bitset v1.24.2 // indirect
	github.com/bits-and-blooms/bloom/v3 v3.7.1 // indirect
	github.com/buraksezer/consistent v0.10.0 // indirect
	github.com/dataplane-go/dataplane v0.0.0-00010101000000-000000000000 // indirect
	github.com/dchest/siphash v1.2.3 // indirect
	github.com/dgryski/go-jump v0.0.0-20170409065014-e1f439676b57 // indirect
	github.com/dgryski/go-maglev v0.0.0-20200611225407-8961b9b1b8e6 // indirect
	github.com/dgryski/go-rendezvous v0.0.0-20200823014737-9f7001d12a5f // indirect
	github.com/golang/groupcache v0.0.0-20241129210726-2c02b8208cf8 // indirect
	github.com/golang/protobuf v1.5.4 // indirect
	github.com/greatroar/blobloom v0.8.1 // indirect
	github.com/holiman/bloomfilter/v2 v2.0.3 // indirect
	github.com/kkdai/maglev v0.2.0 // indirect
	github.com/stathat/consistent v1.0.0 // indirect
	github.com/tylertreat/BoomFilters v0.0.0-20251001182300-5b3723cc64ae // indirect
	google.golang.org/protobuf v1.33.0 // indirect
)
