//! SVG plots for the report, drawn with `plotters` (SVG backend, line series).

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::prelude::*;

use crate::hist::Latencies;

const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// The color of the `i`-th series (the report's legends refer to it by name).
pub fn color_name(i: usize) -> &'static str {
    [
        "blue", "orange", "green", "red", "purple", "brown", "pink", "grey",
    ][i % 8]
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing the plot: {e:?}")
}

/// Draws the legend at `position` and writes the file.
fn finish<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    root: &DrawingArea<SVGBackend<'a>, plotters::coord::Shift>,
    position: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

/// Latency CDFs, one line per `(label, latencies)`, on a log latency axis (µs).
pub fn latency_cdf(path: &Path, title: &str, series: &[(String, &Latencies)]) -> Result<()> {
    let curves: Vec<(String, Vec<(f64, f64)>)> = series
        .iter()
        .map(|(label, l)| {
            let points = l
                .cdf(200)
                .into_iter()
                .map(|(d, f)| (d.as_secs_f64() * 1e6, f))
                .collect();
            (label.clone(), points)
        })
        .filter(|(_, p): &(String, Vec<(f64, f64)>)| !p.is_empty())
        .collect();
    let low = curves
        .iter()
        .flat_map(|(_, p)| p.iter().map(|x| x.0))
        .fold(f64::MAX, f64::min);
    let high = curves
        .iter()
        .flat_map(|(_, p)| p.iter().map(|x| x.0))
        .fold(0.0, f64::max);
    let (low, high) = if curves.is_empty() {
        (1.0, 10.0)
    } else {
        (low.max(0.01) * 0.8, high.max(low * 2.0) * 1.25)
    };

    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d((low..high).log_scale(), 0.0..1.0)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("latency (µs, log scale)")
        .y_desc("fraction of requests")
        .draw()
        .map_err(err)?;
    for (i, (label, points)) in curves.into_iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    finish(&mut chart, &root, SeriesLabelPosition::LowerRight)
}

/// Achieved throughput against offered load, one point per open-loop run, with
/// the `offered = achieved` diagonal for reference.
pub fn throughput_vs_offered(path: &Path, title: &str, points: &[(f64, f64)]) -> Result<()> {
    let max = points.iter().map(|p| p.0.max(p.1)).fold(1.0, f64::max) * 1.1;
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..max, 0.0..max)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("offered load (requests/s)")
        .y_desc("achieved throughput (requests/s)")
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            vec![(0.0, 0.0), (max, max)],
            BLACK.mix(0.3).stroke_width(1),
        ))
        .map_err(err)?
        .label("offered = achieved")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.3)));
    chart
        .draw_series(LineSeries::new(points.to_vec(), COLORS[0].stroke_width(2)))
        .map_err(err)?
        .label("achieved")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], COLORS[0].stroke_width(2)));
    chart
        .draw_series(
            points
                .iter()
                .map(|&p| Circle::new(p, 3, COLORS[0].filled())),
        )
        .map_err(err)?;
    finish(&mut chart, &root, SeriesLabelPosition::UpperLeft)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn plots_are_svg() {
        let dir = std::env::temp_dir().join(format!("pappus-plot-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut l = Latencies::new();
        for i in 1..100u64 {
            l.record(Duration::from_micros(i * 10));
        }
        let cdf = dir.join("cdf.svg");
        latency_cdf(&cdf, "cdf", &[("a".to_string(), &l)]).expect("cdf");
        let text = std::fs::read_to_string(&cdf).expect("read");
        assert!(text.starts_with("<svg") && text.contains("polyline"));
        let tp = dir.join("tp.svg");
        throughput_vs_offered(&tp, "tp", &[(100.0, 100.0), (200.0, 150.0)]).expect("tp");
        assert!(std::fs::read_to_string(&tp).expect("read").contains("<svg"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
