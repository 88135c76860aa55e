//! OGC validity of boundary shapes in near-linear time.
//!
//! `geo`'s `Validation` finds ring self-intersections by testing every pair of segments, so a
//! single 50,000-vertex council polygon took 34 s to import. This reports the same problems, as
//! the same `geo` error values, but only tests segment pairs whose bounding boxes meet (found
//! with an R-tree), and only relates polygons of a multipolygon whose bounding boxes meet.

use geo::coordinate_position::CoordPos;
use geo::dimensions::Dimensions;
use geo::line_intersection::{LineIntersection, line_intersection};
use geo::validation::{CoordIndex, GeometryIndex, InvalidMultiPolygon, InvalidPolygon, RingRole};
use geo::{
    BoundingRect, Coord, Intersects, Line, LineString, MultiPolygon, Polygon, PreparedGeometry,
    Rect, Relate, RemoveRepeatedPoints,
};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

type Segments = RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>;

/// Every validity problem of `shape`, as `geo`'s `validation_errors` would list them.
pub fn validation_errors(shape: &MultiPolygon<f64>) -> Vec<InvalidMultiPolygon> {
    let mut out = Vec::new();
    let boxes: Vec<Option<Rect<f64>>> = shape.0.iter().map(BoundingRect::bounding_rect).collect();
    for (i, polygon) in shape.0.iter().enumerate() {
        out.extend(
            polygon_errors(polygon)
                .into_iter()
                .map(|e| InvalidMultiPolygon::InvalidPolygon(GeometryIndex(i), e)),
        );
        for (j, other) in shape.0.iter().enumerate().skip(i + 1) {
            let near = match (&boxes[i], &boxes[j]) {
                (Some(a), Some(b)) => a.intersects(b),
                _ => false,
            };
            if !near {
                continue;
            }
            let Some(im) = guarded(|| polygon.relate(other)) else {
                continue;
            };
            if im.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                out.push(InvalidMultiPolygon::ElementsOverlaps(
                    GeometryIndex(i),
                    GeometryIndex(j),
                ));
            }
            if im.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                out.push(InvalidMultiPolygon::ElementsTouchOnALine(
                    GeometryIndex(i),
                    GeometryIndex(j),
                ));
            }
        }
    }
    out
}

/// geo's relate asserts on a ring that has collapsed to a point (a case its own
/// validation panics on too). Such a ring is reported as too short by the ring checks, so
/// a relation that cannot be worked out is skipped rather than allowed to end the import.
fn guarded<T>(relate: impl FnOnce() -> T) -> Option<T> {
    crate::caught::catch(relate).ok()
}

fn polygon_errors(polygon: &Polygon<f64>) -> Vec<InvalidPolygon> {
    let mut out = Vec::new();
    if polygon.exterior().0.is_empty() {
        return out;
    }
    let rings = std::iter::once(polygon.exterior()).chain(polygon.interiors());
    for (r, ring) in rings.enumerate() {
        if ring.0.is_empty() {
            continue;
        }
        let role = if r == 0 {
            RingRole::Exterior
        } else {
            RingRole::Interior(r - 1)
        };
        if ring.remove_repeated_points().0.len() < 4 {
            out.push(InvalidPolygon::TooFewPointsInRing(role));
        }
        let non_finite: Vec<usize> = ring
            .0
            .iter()
            .enumerate()
            .filter(|(_, c)| !(c.x.is_finite() && c.y.is_finite()))
            .map(|(i, _)| i)
            .collect();
        // An R-tree cannot order NaN; such a ring is invalid anyway.
        if non_finite.is_empty() && self_intersects(ring) {
            out.push(InvalidPolygon::SelfIntersection(role));
        }
        out.extend(
            non_finite
                .into_iter()
                .map(|i| InvalidPolygon::NonFiniteCoord(role, CoordIndex(i))),
        );
    }
    if polygon.interiors().iter().all(|r| r.0.is_empty()) {
        return out;
    }
    // Rings against each other, as `geo` does it (prepared geometries index their edges).
    let exterior = Polygon::new(polygon.exterior().clone(), vec![]);
    let prepared_exterior = PreparedGeometry::from(&exterior);
    for (i, hole) in polygon.interiors().iter().enumerate() {
        if hole.0.is_empty() {
            continue;
        }
        let hole_polygon = Polygon::new(hole.clone(), vec![]);
        let prepared_hole = PreparedGeometry::from(&hole_polygon);
        let Some(im) = guarded(|| prepared_exterior.relate(&prepared_hole)) else {
            continue;
        };
        if !im.is_contains() {
            out.push(InvalidPolygon::InteriorRingNotContainedInExteriorRing(
                RingRole::Interior(i),
            ));
        }
        if im.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
            out.push(InvalidPolygon::IntersectingRingsOnALine(
                RingRole::Exterior,
                RingRole::Interior(i),
            ));
        }
        let hole_box = hole.bounding_rect();
        for (j, other) in polygon.interiors().iter().enumerate().skip(i + 1) {
            if other.0.is_empty() {
                continue;
            }
            let near = match (&hole_box, other.bounding_rect()) {
                (Some(a), Some(b)) => a.intersects(&b),
                _ => false,
            };
            if !near {
                continue;
            }
            let Some(im) = guarded(|| prepared_hole.relate(&Polygon::new(other.clone(), vec![])))
            else {
                continue;
            };
            if im.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                out.push(InvalidPolygon::IntersectingRingsOnAnArea(
                    RingRole::Interior(i),
                    RingRole::Interior(j),
                ));
            }
            if im.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                out.push(InvalidPolygon::IntersectingRingsOnALine(
                    RingRole::Interior(i),
                    RingRole::Interior(j),
                ));
            }
        }
    }
    out
}

fn segment_index(lines: &[Line<f64>]) -> Segments {
    RTree::bulk_load(
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let (a, b) = (l.start, l.end);
                GeomWithData::new(
                    Rectangle::from_corners(
                        [a.x.min(b.x), a.y.min(b.y)],
                        [a.x.max(b.x), a.y.max(b.y)],
                    ),
                    i,
                )
            })
            .collect(),
    )
}

/// Indices of the segments whose bounding boxes meet that of `line`, in ascending order.
fn near(index: &Segments, line: &Line<f64>) -> Vec<usize> {
    let (a, b) = (line.start, line.end);
    let envelope =
        rstar::AABB::from_corners([a.x.min(b.x), a.y.min(b.y)], [a.x.max(b.x), a.y.max(b.y)]);
    let mut found: Vec<usize> = index
        .locate_in_envelope_intersecting(&envelope)
        .map(|g| g.data)
        .collect();
    found.sort_unstable();
    found
}

/// `geo`'s rule: two segments that meet, other than end to start, make the ring invalid.
fn self_intersects(ring: &LineString<f64>) -> bool {
    let lines: Vec<Line<f64>> = ring.lines().collect();
    let index = segment_index(&lines);
    lines.iter().enumerate().any(|(i, line)| {
        near(&index, line).into_iter().any(|j| {
            let other = &lines[j];
            j > i && line.intersects(other) && line.start != other.end && line.end != other.start
        })
    })
}

/// The first point where ring `a` crosses itself (`other` = None) or ring `other`, in segment
/// order; for pointing at a problem in a message.
pub fn first_crossing(a: &LineString<f64>, other: Option<&LineString<f64>>) -> Option<Coord<f64>> {
    let segs_a: Vec<Line<f64>> = a.lines().collect();
    let segs_b: Vec<Line<f64>> = other.map_or_else(|| segs_a.clone(), |b| b.lines().collect());
    let index = segment_index(&segs_b);
    let n = segs_a.len();
    for (i, s) in segs_a.iter().enumerate() {
        for j in near(&index, s) {
            let t = segs_b[j];
            if other.is_none() {
                // Each pair once; neighbours share an endpoint by construction.
                if j <= i {
                    continue;
                }
                let adjacent = j == i + 1 || (i == 0 && j + 1 == n);
                match line_intersection(*s, t) {
                    Some(LineIntersection::Collinear { intersection }) => {
                        return Some(intersection.start);
                    }
                    Some(LineIntersection::SinglePoint { intersection, .. }) if !adjacent => {
                        return Some(intersection);
                    }
                    _ => {}
                }
            } else if let Some(hit) = line_intersection(*s, t) {
                return Some(match hit {
                    LineIntersection::SinglePoint { intersection, .. } => intersection,
                    LineIntersection::Collinear { intersection } => intersection.start,
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use geo::{Validation, wkt};

    use super::*;

    /// The same errors as `geo` on shapes small enough for its quadratic check.
    #[test]
    fn agrees_with_geo_on_valid_and_invalid_shapes() {
        let shapes: Vec<MultiPolygon<f64>> = vec![
            wkt!(MULTIPOLYGON(((0. 0., 4. 0., 4. 4., 0. 4., 0. 0.)))),
            // A bow tie.
            wkt!(MULTIPOLYGON(((0. 0., 4. 4., 4. 0., 0. 4., 0. 0.)))),
            // A hole poking out, and a hole overlapping another.
            wkt!(MULTIPOLYGON(((0. 0., 4. 0., 4. 4., 0. 4., 0. 0.), (1. 1., 5. 1., 5. 2., 1. 2., 1. 1.)))),
            wkt!(MULTIPOLYGON(((0. 0., 9. 0., 9. 9., 0. 9., 0. 0.), (1. 1., 4. 1., 4. 4., 1. 4., 1. 1.), (2. 2., 5. 2., 5. 5., 2. 5., 2. 2.)))),
            // Two overlapping parts; two parts sharing an edge; two parts touching at a corner.
            wkt!(MULTIPOLYGON(((0. 0., 4. 0., 4. 4., 0. 4., 0. 0.)), ((2. 2., 6. 2., 6. 6., 2. 6., 2. 2.)))),
            wkt!(MULTIPOLYGON(((0. 0., 4. 0., 4. 4., 0. 4., 0. 0.)), ((4. 0., 8. 0., 8. 4., 4. 4., 4. 0.)))),
            wkt!(MULTIPOLYGON(((0. 0., 4. 0., 4. 4., 0. 4., 0. 0.)), ((4. 4., 8. 4., 8. 8., 4. 8., 4. 4.)))),
            // Too few points; a spike back along itself; a repeated vertex.
            wkt!(MULTIPOLYGON(((0. 0., 4. 0., 0. 0.)))),
            wkt!(MULTIPOLYGON(((0. 0., 4. 0., 4. 4., 6. 4., 4. 4., 0. 4., 0. 0.)))),
            wkt!(MULTIPOLYGON(((0. 0., 4. 0., 4. 0., 4. 4., 0. 4., 0. 0.)))),
        ];
        for shape in shapes {
            assert_eq!(
                validation_errors(&shape),
                shape.validation_errors(),
                "{shape:?}"
            );
        }
    }

    proptest::proptest! {
        /// Random small rings on a coarse grid: many touching, collinear and repeated points.
        #[test]
        fn agrees_with_geo_on_random_rings(
            parts in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::collection::vec((0i8..6, 0i8..6), 3..9),
                    1..3,
                ),
                1..3,
            )
        ) {
            let ring = |points: &Vec<(i8, i8)>| {
                LineString::from(
                    points
                        .iter()
                        .map(|(x, y)| Coord { x: f64::from(*x), y: f64::from(*y) })
                        .collect::<Vec<_>>(),
                )
            };
            let shape = MultiPolygon(
                parts
                    .iter()
                    .map(|rings| Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect()))
                    .collect(),
            );
            let ours = validation_errors(&shape);
            // geo's own check panics on a few degenerate shapes (inside its relate
            // operation); there is no reference answer for those, but ours must not panic.
            let theirs = std::panic::catch_unwind(|| shape.validation_errors());
            if let Ok(theirs) = theirs {
                proptest::prop_assert_eq!(ours, theirs);
            }
        }
    }

    #[test]
    fn finds_the_crossing_of_a_bow_tie() {
        let ring: LineString<f64> = wkt!(LINESTRING(0. 0., 4. 4., 4. 0., 0. 4., 0. 0.));
        assert_eq!(first_crossing(&ring, None), Some(Coord { x: 2.0, y: 2.0 }));
    }
}
