//! A shape prepared for many point-in-polygon tests: its edges sorted into horizontal
//! bands, so a test looks only at the edges that cross the point's latitude instead of at
//! every vertex of the shape. The answer is the same as `geo`'s `intersects` for a point
//! (inside, or on the boundary), with the same robust orientation test.

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Coord, MultiPolygon};

/// Bands per shape: enough that a band holds a few dozen edges of a detailed LSOA.
const MAX_BANDS: usize = 256;

#[derive(Debug, Clone)]
pub struct PreparedShape {
    min: Coord<f64>,
    max: Coord<f64>,
    band_height: f64,
    /// For band k, the edges whose latitude range meets it.
    bands: Vec<Vec<(Coord<f64>, Coord<f64>)>>,
}

impl PreparedShape {
    pub fn new(shape: &MultiPolygon<f64>) -> PreparedShape {
        let edges = edges(std::iter::once(shape));
        let (min, max) = extent(&edges);
        let count = (edges.len() / 8).clamp(1, MAX_BANDS);
        let span = max.y - min.y;
        let band_height = if span > 0.0 && span.is_finite() {
            span / count as f64
        } else {
            1.0
        };
        let mut prepared = PreparedShape {
            min,
            max,
            band_height,
            bands: vec![Vec::new(); count],
        };
        for (a, b) in edges {
            let (lo, hi) = (prepared.band(a.y.min(b.y)), prepared.band(a.y.max(b.y)));
            for band in &mut prepared.bands[lo..=hi] {
                band.push((a, b));
            }
        }
        prepared
    }

    /// The band of a latitude inside the bounding box; monotone in `y`, so an edge whose
    /// range holds `y` is always filed under `y`'s band.
    fn band(&self, y: f64) -> usize {
        let k = ((y - self.min.y) / self.band_height).floor();
        if k.is_nan() || k < 0.0 {
            0
        } else {
            (k as usize).min(self.bands.len() - 1)
        }
    }

    /// True when `p` is inside the shape or on its boundary (as `geo`'s `intersects`).
    pub fn intersects(&self, p: Coord<f64>) -> bool {
        if !(p.x >= self.min.x && p.x <= self.max.x && p.y >= self.min.y && p.y <= self.max.y) {
            return false;
        }
        let Some(edges) = self.bands.get(self.band(p.y)) else {
            return false;
        };
        // Even-odd crossings of a ray to the east, over every ring: for valid shapes
        // (holes inside their polygon, polygons apart) odd means inside.
        let mut inside = false;
        for &(a, b) in edges {
            if (a.y > p.y) != (b.y > p.y) {
                let o = RobustKernel::orient2d(a, b, p);
                if o == Orientation::Collinear {
                    return true;
                }
                // The edge crosses the ray east of p when p lies on the edge's left going
                // up, or on its right going down.
                let upward = b.y > a.y;
                if (o == Orientation::CounterClockwise) == upward {
                    inside = !inside;
                }
            } else if on_segment(a, b, p) {
                return true;
            }
        }
        inside
    }
}

/// Every edge of every ring (outer and holes) of `shapes`, as its two ends.
pub(super) fn edges<'a>(
    shapes: impl IntoIterator<Item = &'a MultiPolygon<f64>>,
) -> Vec<(Coord<f64>, Coord<f64>)> {
    shapes
        .into_iter()
        .flat_map(|shape| shape.0.iter())
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|ring| ring.lines().map(|l| (l.start, l.end)))
        .collect()
}

/// The box around the points added to it: infinite, min above max, while there are none.
pub(super) struct Extent {
    pub min: Coord<f64>,
    pub max: Coord<f64>,
}

impl Extent {
    pub(super) fn empty() -> Extent {
        Extent {
            min: Coord {
                x: f64::INFINITY,
                y: f64::INFINITY,
            },
            max: Coord {
                x: f64::NEG_INFINITY,
                y: f64::NEG_INFINITY,
            },
        }
    }

    pub(super) fn add(&mut self, c: Coord<f64>) {
        self.min.x = self.min.x.min(c.x);
        self.min.y = self.min.y.min(c.y);
        self.max.x = self.max.x.max(c.x);
        self.max.y = self.max.y.max(c.y);
    }
}

/// The corners of the box around `edges` (see [`Extent`]).
pub(super) fn extent(edges: &[(Coord<f64>, Coord<f64>)]) -> (Coord<f64>, Coord<f64>) {
    let mut e = Extent::empty();
    for c in edges.iter().flat_map(|(a, b)| [a, b]) {
        e.add(*c);
    }
    (e.min, e.max)
}

/// `p` on the segment a–b, for the edges that do not straddle p's latitude (horizontal
/// edges, and edges with an end exactly at p's latitude).
fn on_segment(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) -> bool {
    p.x >= a.x.min(b.x)
        && p.x <= a.x.max(b.x)
        && p.y >= a.y.min(b.y)
        && p.y <= a.y.max(b.y)
        && RobustKernel::orient2d(a, b, p) == Orientation::Collinear
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Intersects, polygon};

    #[test]
    fn agrees_with_geo_on_a_shape_with_a_hole_inside_on_edges_and_at_vertices() {
        let shape = MultiPolygon(vec![polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 5.0, y: 6.0), (x: 0.0, y: 10.0), (x: 0.0, y: 0.0)],
            interiors: [[(x: 2.0, y: 2.0), (x: 4.0, y: 2.0), (x: 4.0, y: 4.0), (x: 2.0, y: 4.0), (x: 2.0, y: 2.0)]],
        )]);
        let prepared = PreparedShape::new(&shape);
        let mut checked = 0;
        for i in -4..=56 {
            for j in -4..=56 {
                let p = Coord {
                    x: f64::from(i) * 0.25,
                    y: f64::from(j) * 0.25,
                };
                assert_eq!(prepared.intersects(p), shape.intersects(&p), "{p:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, 61 * 61);
        assert!(prepared.intersects(Coord { x: 5.0, y: 6.0 }));
        assert!(!prepared.intersects(Coord { x: 3.0, y: 3.0 }));
        assert!(prepared.intersects(Coord { x: 3.0, y: 2.0 }));
        assert!(!prepared.intersects(Coord { x: 5.0, y: 8.0 }));
    }

    #[test]
    fn an_empty_or_degenerate_shape_contains_nothing_and_does_not_panic() {
        let empty = PreparedShape::new(&MultiPolygon(vec![]));
        assert!(!empty.intersects(Coord { x: 0.0, y: 0.0 }));
        let flat = MultiPolygon(vec![
            polygon![(x: 0.0, y: 1.0), (x: 2.0, y: 1.0), (x: 0.0, y: 1.0)],
        ]);
        let prepared = PreparedShape::new(&flat);
        assert_eq!(
            prepared.intersects(Coord { x: 1.0, y: 1.0 }),
            flat.intersects(&Coord { x: 1.0, y: 1.0 })
        );
    }
}
