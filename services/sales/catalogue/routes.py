"""Product catalogue routes: products, and price changes as new history entries."""

from flask import request, url_for
from flask.views import MethodView

from services.sales.catalogue import products
from services.sales.catalogue.schemas import (
    PriceIn,
    ProductIn,
    ProductListArgs,
    ProductOut,
    ProductPage,
)
from shared.web.app import principal, require_roles, service
from shared.web.blueprint import Blueprint
from shared.web.idempotency import idempotent

blp = Blueprint(
    "products",
    __name__,
    url_prefix="/products",
    description="Products with their price and unit cost history",
)


@blp.before_request
def authorize():
    if request.method == "POST":
        require_roles("manager")
    else:
        require_roles("manager", "agent", "analyst")


@blp.route("")
class Products(MethodView):
    @blp.arguments(ProductListArgs, location="query")
    @blp.response(200, ProductPage)
    def get(self, args):
        """Products in SKU order, each with its current price and its history."""
        return products.list_products(
            service().uow, args["category"], args["limit"], args["cursor"]
        )

    @idempotent
    @blp.arguments(ProductIn)
    @blp.response(201, ProductOut)
    def post(self, data):
        """Add a product with its first price and unit cost (effective now unless
        ``effective_from`` says otherwise)."""
        product = products.create_product(service().uow, data, principal().subject)
        return product, 201, {"Location": url_for("products.ProductDetail", sku=product.sku)}


@blp.route("/<string:sku>")
class ProductDetail(MethodView):
    @blp.response(200, ProductOut)
    def get(self, sku):
        """One product with its price history."""
        return products.get_product(service().uow, sku)


@blp.route("/<string:sku>/prices")
class ProductPrices(MethodView):
    @idempotent
    @blp.arguments(PriceIn)
    @blp.response(201, ProductOut)
    def post(self, data, sku):
        """Change the price and unit cost from ``effective_from``: a new history entry;
        sales before it keep the price and cost they had."""
        product = products.add_price(service().uow, sku, data, principal().subject)
        return product, 201, {"Location": url_for("products.ProductDetail", sku=sku)}
