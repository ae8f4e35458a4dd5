package exporter

import (
	"encoding/binary"
	"math"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// maxAttrSets bounds the attribute sets measureOptions remembers; when full
// it starts again empty. The measurements' attributes are bounded (labels.go),
// so in practice a few hundred sets are in use.
const maxAttrSets = 4096

// measureOptions keeps the measurement options (an attribute.Set) of each
// list of metric attributes recorded, so that a measurement reuses them
// instead of building, sorting and hashing a new set (what
// metric.WithAttributes does every time). The set is the one
// metric.WithAttributes would build: the metric data do not change.
type measureOptions struct {
	mu   sync.Mutex
	key  []byte // scratch, under mu
	opts map[string]measureOption
}

// measureOption is one attribute set as the options of Add and Record
// (passed as they are, no slice is made per call).
type measureOption struct {
	add    []metric.AddOption
	record []metric.RecordOption
}

func newMeasureOption(opt metric.MeasurementOption) measureOption {
	return measureOption{add: []metric.AddOption{opt}, record: []metric.RecordOption{opt}}
}

func newMeasureOptions() *measureOptions {
	return &measureOptions{opts: make(map[string]measureOption)}
}

// of returns the measurement options of attrs.
func (c *measureOptions) of(attrs []attribute.KeyValue) measureOption {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ok bool
	if c.key, ok = appendAttrsKey(c.key[:0], attrs); !ok {
		return newMeasureOption(metric.WithAttributes(attrs...))
	}
	if opt, ok := c.opts[string(c.key)]; ok {
		return opt
	}
	if len(c.opts) >= maxAttrSets {
		clear(c.opts)
	}
	opt := newMeasureOption(metric.WithAttributeSet(attribute.NewSet(attrs...)))
	c.opts[string(c.key)] = opt
	return opt
}

// appendAttrsKey appends to dst a key that tells attribute lists apart
// (every key and value, in order, length-prefixed); false for a list
// holding a value other than a string, bool, integer or float.
func appendAttrsKey(dst []byte, attrs []attribute.KeyValue) ([]byte, bool) {
	for _, kv := range attrs {
		dst = binary.AppendUvarint(dst, uint64(len(kv.Key)))
		dst = append(dst, kv.Key...)
		dst = append(dst, byte(kv.Value.Type()))
		switch kv.Value.Type() {
		case attribute.STRING:
			s := kv.Value.AsString()
			dst = binary.AppendUvarint(dst, uint64(len(s)))
			dst = append(dst, s...)
		case attribute.BOOL:
			dst = append(dst, boolByte(kv.Value.AsBool()))
		case attribute.INT64:
			dst = binary.AppendVarint(dst, kv.Value.AsInt64())
		case attribute.FLOAT64:
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(kv.Value.AsFloat64()))
		default:
			return dst, false
		}
	}
	return dst, true
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
