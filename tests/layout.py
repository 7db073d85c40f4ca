"""Print faults read from WeasyPrint's own layout of a document: text outside its box, words cut in two.

A header that runs into the next column, or a drug name cut as "dexamethason|e", cannot be
seen in the PDF's text (pypdf reads the letters, not where they stand). The layout can: each
line of text has a position and a width, and so has the cell or block that holds it.
"""

import re

#: how far (CSS px, 1/96 inch) text may reach past its box's content edge: rounding only
TOLERANCE_PX = 0.5


def faults(html: str) -> list[str]:
    """Every line of text that runs out of its box, and every word broken across two lines."""
    import weasyprint

    document = weasyprint.HTML(string=html, base_url=None).render()
    found = []
    for number, page in enumerate(document.pages, start=1):
        # _page_box is WeasyPrint's laid-out box tree of the page (its own tests read it too).
        _walk(page._page_box, None, number, found)
    return found


def _walk(box, holder, page, found):
    from weasyprint.formatting_structure import boxes

    if isinstance(box, (boxes.BlockContainerBox, boxes.TableCellBox)):
        holder = box
        _broken_words(box, page, found)
    if isinstance(box, boxes.LineBox) and holder is not None:
        right = holder.content_box_x() + holder.width
        for text in _text_boxes(box):
            over = text.position_x + text.width - right
            if over > TOLERANCE_PX:
                found.append(f"page {page}: {text.text!r} runs {over * 25.4 / 96:.1f} mm out of its box")
    for child in getattr(box, "children", None) or []:
        _walk(child, holder, page, found)


def _broken_words(box, page, found):
    """Two lines of one box where the last word of the first and the first of the next are one word of the source."""
    from weasyprint.formatting_structure import boxes

    lines = ["".join(t.text for t in _text_boxes(line)).split() for line in box.children or [] if isinstance(line, boxes.LineBox)]
    if len(lines) < 2 or getattr(box, "element", None) is None:
        return
    # The element's text pieces joined by spaces: a <br> or a nested block separates words too.
    source = " ".join(" ".join(box.element.itertext()).split())
    for first, then in zip(lines, lines[1:]):
        if not first or not then:
            continue
        end, start = first[-1], then[0]
        if end[-1] in "-/–" or not (end[-1].isalnum() and start[0].isalnum()):
            continue  # a break after a hyphen or a slash is an ordinary line break
        if end + start in source and not re.search(re.escape(end) + r"\s+" + re.escape(start), source):
            found.append(f"page {page}: word broken across lines: {end!r} | {start!r}")


def _text_boxes(box):
    from weasyprint.formatting_structure import boxes

    if isinstance(box, boxes.TextBox):
        return [box]
    return [text for child in getattr(box, "children", None) or [] for text in _text_boxes(child)]
