#include "gui/plot_export.h"

#include "qcustomplot_include.h"

#include <QFile>
#include <QFileDialog>
#include <QMenu>
#include <QSvgGenerator>
#include <QTextStream>

namespace app {

bool savePlot(QCustomPlot* plot, const QString& path)
{
    const QString lower = path.toLower();
    if (lower.endsWith(QLatin1String(".png")))
        return plot->savePng(path, 0, 0, 2.0); // twice the screen size: sharp in papers
    if (lower.endsWith(QLatin1String(".pdf")))
        return plot->savePdf(path);
    if (lower.endsWith(QLatin1String(".svg"))) {
        QSvgGenerator generator;
        generator.setFileName(path);
        generator.setSize(plot->size());
        generator.setViewBox(plot->rect());
        generator.setTitle(QStringLiteral("Quantscope plot"));
        QCPPainter painter;
        if (!painter.begin(&generator))
            return false;
        plot->toPainter(&painter, plot->width(), plot->height());
        return painter.end();
    }
    return false;
}

QString graphsCsv(const QCustomPlot* plot)
{
    QString csv;
    QTextStream out(&csv);
    out << "series,x,y\n";
    for (int g = 0; g < plot->graphCount(); ++g) {
        const QCPGraph* graph = plot->graph(g);
        for (auto it = graph->data()->constBegin(); it != graph->data()->constEnd(); ++it)
            out << '"' << graph->name() << "\"," << it->key << ',' << it->value << '\n';
    }
    return csv;
}

void installPlotExport(QCustomPlot* plot, std::function<QString()> csv)
{
    plot->setContextMenuPolicy(Qt::CustomContextMenu);
    QObject::connect(plot, &QWidget::customContextMenuRequested, plot, [plot, csv](const QPoint& position) {
        QMenu menu(plot);
        QAction* image = menu.addAction(QObject::tr("Save image as PNG / SVG / PDF…"));
        QAction* data = menu.addAction(QObject::tr("Save data as CSV…"));
        QAction* chosen = menu.exec(plot->mapToGlobal(position));
        if (chosen == image) {
            const QString path = QFileDialog::getSaveFileName(plot, QObject::tr("Save plot"), {},
                                                              QObject::tr("Images (*.png *.svg *.pdf)"));
            if (!path.isEmpty() && !savePlot(plot, path))
                plot->setToolTip(QObject::tr("Could not write %1").arg(path));
        } else if (chosen == data) {
            const QString path =
                QFileDialog::getSaveFileName(plot, QObject::tr("Save data"), {}, QObject::tr("CSV (*.csv)"));
            QFile file(path);
            if (!path.isEmpty() && file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text))
                file.write((csv ? csv() : graphsCsv(plot)).toUtf8());
        }
    });
}

} // namespace app
