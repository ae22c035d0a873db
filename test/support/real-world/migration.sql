-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "rw_theaters" (
    "id" UUID NOT NULL,
    "theaterId" INTEGER NOT NULL,
    "longitude" DOUBLE PRECISION,
    "latitude" DOUBLE PRECISION,
    "legacyExtra" JSONB,

    CONSTRAINT "rw_theaters_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rw_users" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "legacyExtra" JSONB,

    CONSTRAINT "rw_users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rw_comments" (
    "id" UUID NOT NULL,
    "text" TEXT NOT NULL,
    "userId" UUID,
    "legacyExtra" JSONB,

    CONSTRAINT "rw_comments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rw_accounts" (
    "id" UUID NOT NULL,
    "accountId" INTEGER NOT NULL,
    "limit" INTEGER,
    "legacyExtra" JSONB,

    CONSTRAINT "rw_accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rw_customers" (
    "id" UUID NOT NULL,
    "username" TEXT NOT NULL,
    "tierNames" TEXT[],
    "legacyExtra" JSONB,

    CONSTRAINT "rw_customers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rw_customer_accounts" (
    "id" UUID NOT NULL,
    "customerId" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "accountId" INTEGER NOT NULL,

    CONSTRAINT "rw_customer_accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rw_transactions" (
    "id" UUID NOT NULL,
    "accountNumber" INTEGER NOT NULL,
    "amount" INTEGER NOT NULL,
    "legacyExtra" JSONB,

    CONSTRAINT "rw_transactions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rw_movie_tags" (
    "id" UUID NOT NULL,
    "movieId" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "value" TEXT NOT NULL,

    CONSTRAINT "rw_movie_tags_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rw_movies" (
    "id" UUID NOT NULL,
    "title" TEXT NOT NULL,
    "genres" TEXT[],
    "legacyExtra" JSONB,

    CONSTRAINT "rw_movies_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "rw_theaters_theaterId_key" ON "rw_theaters"("theaterId");

-- CreateIndex
CREATE UNIQUE INDEX "rw_users_email_key" ON "rw_users"("email");

-- CreateIndex
CREATE UNIQUE INDEX "rw_accounts_accountId_key" ON "rw_accounts"("accountId");

-- AddForeignKey
ALTER TABLE "rw_comments" ADD CONSTRAINT "rw_comments_userId_fkey" FOREIGN KEY ("userId") REFERENCES "rw_users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rw_customer_accounts" ADD CONSTRAINT "rw_customer_accounts_customerId_fkey" FOREIGN KEY ("customerId") REFERENCES "rw_customers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rw_customer_accounts" ADD CONSTRAINT "rw_customer_accounts_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "rw_accounts"("accountId") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rw_transactions" ADD CONSTRAINT "rw_transactions_accountNumber_fkey" FOREIGN KEY ("accountNumber") REFERENCES "rw_accounts"("accountId") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rw_movie_tags" ADD CONSTRAINT "rw_movie_tags_movieId_fkey" FOREIGN KEY ("movieId") REFERENCES "rw_movies"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
