// Product names by SKU for the console, from the store's facings (GET /staff/inventory): the
// engine's candidates and the "add a product" picker show names, not barcodes.

let names = null;

/** A Map sku → name, fetched once per page load. */
export async function productNames(ctx) {
  if (!names) {
    const facings = await ctx.api("/staff/inventory");
    names = new Map(facings.map((f) => [f.sku, f.name]));
  }
  return names;
}
