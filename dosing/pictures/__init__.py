"""Pictures on the documents (issue 19): SVG written as text, imported only where a
document draws one (never on the JSON path). svg.py is the drawing core."""
