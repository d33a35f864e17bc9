/**
 * The three stacked bar charts (requests, tokens, errors) drawn with Chart.js from chartData's
 * series, in the theme's `--vscode-charts-*` colours (read again when the theme changes).
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { OTHER, type ChartData, type Metric } from './chartData';
import { countText } from './format';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

const PALETTE = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple',
  '--vscode-charts-yellow', '--vscode-charts-red', '--vscode-textLink-foreground', '--vscode-descriptionForeground'];

const cssVar = (name: string, fallback: string): string =>
  getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;

export class MetricChart {
  private readonly chart: Chart<'bar', number[], string>;

  constructor(readonly canvas: HTMLCanvasElement, private readonly metric: Metric) {
    this.chart = new Chart(canvas, {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { stacked: true, grid: { display: false }, ticks: { autoSkip: true, maxRotation: 0 } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0, callback: (v) => countText(Number(v)) } },
        },
        plugins: {
          legend: { position: 'bottom', labels: { boxWidth: 10, boxHeight: 10 } },
          tooltip: { callbacks: { label: (item) => `${item.dataset.label ?? ''}: ${countText(item.parsed.y ?? 0)}` } },
        },
      },
    });
    this.applyTheme();
  }

  /** Colours and font from the current theme's variables. */
  applyTheme(): void {
    const foreground = cssVar('--vscode-foreground', '#888');
    Chart.defaults.font.family = cssVar('--vscode-font-family', 'sans-serif');
    const options = this.chart.options;
    const grid = cssVar('--vscode-charts-lines', 'rgba(128,128,128,0.3)');
    for (const axis of ['x', 'y'] as const) {
      const scale = options.scales?.[axis];
      if (!scale) continue;
      scale.ticks = { ...scale.ticks, color: foreground };
      if (scale.grid) scale.grid.color = grid;
    }
    if (options.plugins?.legend?.labels) options.plugins.legend.labels.color = foreground;
    this.chart.data.datasets.forEach((dataset) => {
      const colour = colourOf((dataset as { colourIndex?: number }).colourIndex ?? 0, dataset.label === OTHER);
      dataset.backgroundColor = colour;
      dataset.borderColor = colour;
    });
    this.chart.update('none');
  }

  show(data: ChartData): void {
    this.chart.data.labels = data.labels;
    this.chart.data.datasets = data.series[this.metric].map((s) => ({
      label: s.key,
      data: s.values,
      colourIndex: s.colour,
      backgroundColor: colourOf(s.colour, s.key === OTHER),
      borderColor: colourOf(s.colour, s.key === OTHER),
      borderWidth: 0,
      barPercentage: 0.9,
      categoryPercentage: 0.9,
    }));
    this.chart.update('none');
  }

  destroy(): void {
    this.chart.destroy();
  }
}

function colourOf(index: number, other: boolean): string {
  if (other) return cssVar('--vscode-disabledForeground', '#888');
  return cssVar(PALETTE[index % PALETTE.length], '#3794ff');
}
