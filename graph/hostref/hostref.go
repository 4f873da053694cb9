// Package hostref is an independent plain-Go float64 forward pass of a
// layers.Sequential, used by tests to check what the device plans compute
// (loss, and by finite differences the gradients). It shares no code with
// the backends: convolution, pooling, linear layers, dropout (its own
// Philox4x32-10) and the loss are written out directly.
package hostref

import (
	"fmt"
	"math"

	"github.com/crossgrad/crossgrad/layers"
)

// Forward runs model on x (shape in, batch first, row-major) with params in
// model.Params() order and returns the logits [N, classes]. Dropout is
// applied when train is true, with the mask of (layer Seed, step).
func Forward(model *layers.Sequential, in layers.Shape, x []float64, params [][]float64, train bool, step uint32) ([]float64, error) {
	shapes, err := model.Shapes(in)
	if err != nil {
		return nil, err
	}
	if len(x) != in.Elems() {
		return nil, fmt.Errorf("hostref: %d input values for shape %v", len(x), []int(in))
	}
	ps := model.Params()
	if len(params) != len(ps) {
		return nil, fmt.Errorf("hostref: %d parameter tensors, the model has %d", len(params), len(ps))
	}
	k := 0
	cur := append([]float64(nil), x...)
	for i, l := range model.Layers() {
		s, o := shapes[i], shapes[i+1]
		var w [][]float64
		for ; k < len(ps) && ps[k].Layer == i; k++ {
			w = append(w, params[k])
		}
		switch t := l.(type) {
		case *layers.Conv2d:
			cur = conv(cur, w[0], w[1], s, o, t.K, t.Stride, t.Pad)
		case *layers.MaxPool2d:
			cur = maxpool(cur, s, o, t.K, t.Stride, t.Pad)
		case *layers.ReLU:
			for j, v := range cur {
				cur[j] = math.Max(v, 0)
			}
		case *layers.Dropout:
			if train {
				scale := 0.0
				if t.P < 1 {
					scale = 1 / (1 - float64(t.P))
				}
				for j := range cur {
					if Keep(t.Seed, step, uint32(j), t.P) {
						cur[j] *= scale
					} else {
						cur[j] = 0
					}
				}
			}
		case *layers.Flatten:
		case *layers.Linear:
			cur = linear(cur, w[0], w[1], s[0], t.In, t.Out)
		default:
			return nil, fmt.Errorf("hostref: layer %s of type %T is not supported", l, l)
		}
	}
	return cur, nil
}

// Loss is the mean softmax cross-entropy of logits [N, C] against labels
// and the number of rows whose first maximal logit is the label.
func Loss(logits []float64, labels []int, c int) (float64, int) {
	var sum float64
	correct := 0
	for r, t := range labels {
		row := logits[r*c : (r+1)*c]
		arg := 0
		for j, v := range row {
			if v > row[arg] {
				arg = j
			}
		}
		mx := row[arg]
		var z float64
		for _, v := range row {
			z += math.Exp(v - mx)
		}
		sum += math.Log(z) + mx - row[t]
		if arg == t {
			correct++
		}
	}
	return sum / float64(len(labels)), correct
}

func conv(x, w, b []float64, s, o layers.Shape, k, stride, pad int) []float64 {
	n, c, h, wd := s[0], s[1], s[2], s[3]
	kk, oh, ow := o[1], o[2], o[3]
	y := make([]float64, o.Elems())
	for in := range n {
		for ko := range kk {
			for yh := range oh {
				for yw := range ow {
					acc := b[ko]
					for ci := range c {
						for r := range k {
							ih := yh*stride - pad + r
							if ih < 0 || ih >= h {
								continue
							}
							for q := range k {
								iw := yw*stride - pad + q
								if iw < 0 || iw >= wd {
									continue
								}
								acc += w[((ko*c+ci)*k+r)*k+q] * x[((in*c+ci)*h+ih)*wd+iw]
							}
						}
					}
					y[((in*kk+ko)*oh+yh)*ow+yw] = acc
				}
			}
		}
	}
	return y
}

func maxpool(x []float64, s, o layers.Shape, k, stride, pad int) []float64 {
	h, wd, oh, ow := s[2], s[3], o[2], o[3]
	y := make([]float64, o.Elems())
	for p := range s[0] * s[1] {
		for yh := range oh {
			for yw := range ow {
				m := math.Inf(-1)
				for r := range k {
					for q := range k {
						ih, iw := yh*stride-pad+r, yw*stride-pad+q
						if ih >= 0 && ih < h && iw >= 0 && iw < wd {
							m = math.Max(m, x[(p*h+ih)*wd+iw])
						}
					}
				}
				y[(p*oh+yh)*ow+yw] = m
			}
		}
	}
	return y
}

func linear(x, w, b []float64, n, in, out int) []float64 {
	y := make([]float64, n*out)
	for r := range n {
		for j := range out {
			acc := b[j]
			for i := range in {
				acc += x[r*in+i] * w[j*in+i]
			}
			y[r*out+j] = acc
		}
	}
	return y
}

// Keep reports whether dropout keeps element i at (seed, step) with drop
// probability p: u = (x0 >> 8) * 2^-24 >= p, x0 the first word of
// Philox4x32-10 with key (seed, 0xCA5A0B1E) and counter (i, step, 0, 0).
func Keep(seed, step, i uint32, p float32) bool {
	c := [4]uint32{i, step, 0, 0}
	k0, k1 := seed, uint32(0xCA5A0B1E)
	for r := range 10 {
		if r > 0 {
			k0 += 0x9E3779B9
			k1 += 0xBB67AE85
		}
		p0 := uint64(0xD2511F53) * uint64(c[0])
		p1 := uint64(0xCD9E8D57) * uint64(c[2])
		hi0, lo0 := uint32(p0>>32), uint32(p0)
		hi1, lo1 := uint32(p1>>32), uint32(p1)
		c = [4]uint32{hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0}
	}
	u := float32(c[0]>>8) * (1.0 / (1 << 24))
	return u >= p
}
