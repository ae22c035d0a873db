/**
 * The mapping of the customer's legacy MongoDB model onto prisma/schema.prisma.
 * Fields whose names match the Prisma model need no entry; what is listed here is what
 * differs: renamed references (`createdBy` → `createdById`), nested objects flattened into
 * columns, arrays that become child tables, and the two shapes old data comes in.
 */
import { defineConfig, type SourceDocument } from './src/config/define-config.js';

/** Old clients hold the address as one string; newer ones as {city, district, street, notes}. */
function addressAsObject(doc: SourceDocument): SourceDocument {
  return typeof doc.address === 'string' ? { ...doc, address: { street: doc.address } } : doc;
}

/**
 * Old orders carry one product in product/productId/quantity/price; newer ones an `items`
 * array (some have both: then `items` wins and the old fields are kept in legacy_extra).
 * Either way the order ends up with order_items rows.
 */
function legacyOrderAsItems(doc: SourceDocument): SourceDocument {
  const hasItems = Array.isArray(doc.items) && doc.items.length > 0;
  const hasLegacyProduct = doc.product != null || doc.productId != null || doc.quantity != null || doc.price != null;
  if (hasItems || !hasLegacyProduct) return doc;
  const { product, quantity, price, ...rest } = doc;
  const item: Record<string, unknown> = {};
  if (doc.productId !== undefined) item.productId = doc.productId;
  if (product !== undefined) item.name = product;
  if (quantity !== undefined) item.quantity = quantity;
  if (price !== undefined) item.unitPrice = price;
  return { ...rest, items: [item] };
}

export default defineConfig({
  schema: 'prisma/schema.prisma',
  collections: {
    workspaces: {
      model: 'Workspace',
      // workspace.owner → users and user.workspaceId → workspaces form a cycle: the owner
      // (optional) is written in a second pass, once users are loaded.
      fields: { ownerId: { from: 'owner', references: 'users' } },
    },
    users: { model: 'User' },
    products: { model: 'Product', fields: { createdById: 'createdBy' } },
    clients: {
      model: 'Client',
      prepare: addressAsObject,
      fields: {
        addressCity: 'address.city',
        addressDistrict: 'address.district',
        addressStreet: 'address.street',
        addressNotes: 'address.notes',
        createdById: 'createdBy',
      },
    },
    orders: {
      model: 'Order',
      prepare: legacyOrderAsItems,
      fields: {
        createdById: 'createdBy',
        deliveryAddress: 'delivery.address',
        deliveryCity: 'delivery.city',
        deliveryFee: 'delivery.fee',
        deliveredAt: 'delivery.deliveredAt',
      },
      children: [
        { model: 'OrderItem', from: 'items' },
        { model: 'OrderStatusHistory', from: 'statusHistory', fields: { byId: 'by' } },
      ],
    },
    transactions: { model: 'Transaction', fields: { createdById: 'createdBy' } },
    reports: { model: 'Report', fields: { createdById: 'createdBy' } },
    decisions: { model: 'Decision', fields: { decidedById: 'decidedBy' } },
    goals: { model: 'Goal', fields: { createdById: 'createdBy' } },
  },
});
