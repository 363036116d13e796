"""The product catalogue: products and their price and cost history. Routes
(``routes``), schemas (``schemas``), use cases (``products``) and tables
(``tables``)."""
