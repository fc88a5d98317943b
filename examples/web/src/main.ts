import { createSyncClient } from '@apisync/client'
import { generateAccountKeys } from '@apisync/crypto'
import { CollectionModel } from '@apisync/model'
import { exportCollection } from '@apisync/postman'
console.log(createSyncClient, generateAccountKeys, CollectionModel, exportCollection)
